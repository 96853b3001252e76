// Command atoll is a self-hosted GitHub App that brings GitOps to Terraform
// and OpenTofu: it plans pull requests, judges plans with OPA policies,
// locks workspaces, applies on comment or after merge, and checks the
// default branch for drift.
//
// Each subcommand is a small struct with ParseFlags and Run (and Close
// where it holds resources), so end-to-end tests drive the same code the
// binary runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Set by the linker: -X main.version=... -X main.commit=...
var (
	version = "dev"
	commit  = "unknown"
)

// errUsage marks an error caused by how the command was called; main exits
// with 2 for it.
var errUsage = errors.New("usage")

// exitError carries an exit code other than 1 out of a subcommand.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	sandboxExecFirst()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stdout)
		return 2
	}
	var err error
	switch args[0] {
	case "help", "-h", "--help":
		printHelp(stdout)
		return 0
	case "version", "--version":
		printVersion(stdout)
		return 0
	case "server":
		err = runServer(ctx, args[1:], stdout, stderr)
	case "setup":
		err = runSetup(ctx, args[1:], stdout, stderr)
	case "testdrive":
		err = runTestdrive(ctx, args[1:], stdout, stderr)
	case "config":
		err = runConfig(ctx, args[1:], stdout, stderr)
	case "policy":
		err = runPolicy(ctx, args[1:], stdout, stderr)
	case "drift":
		err = runDrift(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, args[1:], stdout, stderr)
	case "audit":
		err = runAudit(ctx, args[1:], stdout, stderr)
	case "token":
		err = runToken(ctx, args[1:], stdout, stderr)
	case "db":
		err = runDB(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "atoll: unknown command %q\n\n", args[0])
		printHelp(stderr)
		return 2
	}
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "atoll:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "atoll:", err)
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `atoll: GitOps for Terraform and OpenTofu, as a GitHub App.

Usage:
  atoll server --config FILE        run the GitHub App server
  atoll setup --owner ORG --url ATOLL_URL [--github-url URL] [--out server.yaml]
                                    create the GitHub App (manifest flow) and write its
                                    credentials and a server config
  atoll testdrive [--no-demo]       the whole product locally: GitHub emulator, server, demo
  atoll config validate [FILE]      check an atoll.yaml (exit 1 on errors)
  atoll policy check --policies DIR [--format atoll|conftest] [--input-doc] FILE...
                                    evaluate a policy set against plans (exit 0/1/2)
  atoll policy test DIR             run the Rego unit tests in DIR (exit 0/1/2)
  atoll migrate atlantis --repos-yaml FILE [--flags FILE] --out FILE
                                    write an atoll server config from an Atlantis server's;
                                    print what could not be carried over
  atoll drift run --server URL --token T [--repo R] [--project P] [--wait]
                                    ask a running server for a drift check
  atoll audit verify --data-dir DIR|--database URL
                                    check the audit trail's hash chain offline
  atoll audit export --server URL --token T [--since SEQ]
                                    write the audit trail as JSON lines
  atoll token create --data-dir DIR|--database URL --name NAME --scope read|write|admin [--expires 90d]
                                    make an API token (printed once)
  atoll token list --data-dir DIR   list API tokens and their last use
  atoll token revoke --data-dir DIR NAME
                                    revoke an API token (list and revoke take --database too)
  atoll db migrate --from DATA_DIR --to postgres://...
                                    copy a stopped server's bbolt database and plan files
                                    into an empty PostgreSQL database, and check the counts
  atoll version                     version, commit and Go version
  atoll help                        this text

Run "atoll COMMAND -h" for a command's flags. The README is the manual.
`)
}
