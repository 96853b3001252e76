// Package sandboxexec runs `atoll sandbox-exec` (runner/sandbox) from
// its package initialisation, before the rest of atoll is initialised:
// importing it is all the atoll binary (and a test binary that stands in
// for it) needs to do.
//
// atoll starts a copy of itself as the sandboxing parent of every
// terraform command and custom step, and that copy only restricts itself
// and execs the program. Run from main, it would first initialise every
// package atoll links (OPA, Prometheus, the GitHub client, templates...):
// most of the copy's start, 5 to 10 ms of wall time per command on a
// 2-core machine, spent mostly touching pages of a large binary. Go
// initialises packages in the order of their import paths, each once all
// it imports are initialised (the Go specification, "Package
// initialization"): this package imports only runner/sandbox, whose
// imports are the standard library, x/sys and go-landlock, and its path
// sorts before atoll's other packages, so it is initialised as soon as
// those are, and the heavy packages never are in a sandboxing parent.
// Nothing depends on that order for correctness: were this package
// initialised later, the copy would only start more slowly.
package sandboxexec

import (
	"fmt"
	"io"
	"os"

	"github.com/atollhq/atoll/runner/sandbox"
)

func init() {
	if code, ok := Run(os.Args, os.Stderr); ok {
		os.Exit(code)
	}
}

// Run runs `atoll sandbox-exec` when args (os.Args: the program name,
// then its arguments) or the environment ask for it (sandbox.Unwrap):
// it confines the process and execs the program, and returns only on
// failure, with the exit code and true. It returns false, having done
// nothing, when the process is not a sandboxing parent. Signals are at
// their defaults and nothing of atoll's runs when it is called from
// package initialisation.
func Run(args []string, stderr io.Writer) (code int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	if a, ok := sandbox.Unwrap(args[1:]); ok {
		return run(a, stderr), true
	}
	if len(args) > 1 && args[1] == sandbox.Subcommand {
		return run(args[1:], stderr), true
	}
	return 0, false
}

// run is the hidden `atoll sandbox-exec --ro PATH --rw PATH --ls PATH
// --hide PATH -- PROGRAM ARGS...`: it confines itself with Landlock and
// execs PROGRAM. args start with the subcommand; nil args mean a
// sandbox-exec environment variable that held something else. It returns
// only on failure, with an exit code.
func run(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "atoll: %s does not hold a %s command\n", sandbox.EnvVar, sandbox.Subcommand)
		return 2
	}
	err := sandbox.Main(args[1:])
	fmt.Fprintf(stderr, "atoll %s: %v\n", sandbox.Subcommand, err)
	return 126
}
