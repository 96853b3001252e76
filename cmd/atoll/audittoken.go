package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/postgres"
	"github.com/atollhq/atoll/server"
)

// openDataDir opens the store: the PostgreSQL database at database when
// it is set (a server may be running on it), else the bbolt file of a
// data dir that no server holds; create makes that file when there is
// none yet.
func openDataDir(ctx context.Context, dir, database string, create bool) (locks.Store, error) {
	if database != "" {
		return postgres.Open(ctx, database, postgres.Options{})
	}
	if dir == "" {
		return nil, fmt.Errorf("%w: --data-dir or --database is required", errUsage)
	}
	path := filepath.Join(dir, "atoll.db")
	if _, err := os.Stat(path); err != nil && !create {
		return nil, fmt.Errorf("no atoll database in %s: %w", dir, err)
	}
	return boltdb.Open(path, boltdb.Options{Timeout: 2 * time.Second})
}

// runAudit is `atoll audit verify` and `atoll audit export`.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "atoll audit verify --data-dir DIR|--database URL | atoll audit export --server URL --token T [--since SEQ]"
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, usage)
	}
	switch args[0] {
	case "verify":
		fs := flag.NewFlagSet("atoll audit verify", flag.ContinueOnError)
		fs.SetOutput(stderr)
		dir := fs.String("data-dir", "", "the server's data directory (the server must be stopped)")
		database := fs.String("database", "", "the server's PostgreSQL database URL (instead of --data-dir)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		db, err := openDataDir(ctx, *dir, *database, false)
		if err != nil {
			return err
		}
		defer db.Close()
		n, err := audit.Verify(ctx, db)
		var bad *audit.BadRecord
		if errors.As(err, &bad) {
			fmt.Fprintf(stdout, "audit trail BROKEN at record %d: %s\n", bad.Seq, bad.Reason)
			return exitError{1}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "audit trail OK: %d records, chain intact\n", n)
		return nil
	case "export":
		fs := flag.NewFlagSet("atoll audit export", flag.ContinueOnError)
		fs.SetOutput(stderr)
		serverURL := fs.String("server", os.Getenv("ATOLL_SERVER"), "atoll's URL")
		token := fs.String("token", os.Getenv("ATOLL_API_TOKEN"), "an API token with the read scope")
		since := fs.Uint64("since", 0, "first sequence number to export")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *serverURL == "" || *token == "" {
			return fmt.Errorf("%w: --server and --token are required", errUsage)
		}
		u := strings.TrimSuffix(*serverURL, "/") + "/api/audit?since=" + url.QueryEscape(strconv.FormatUint(*since, 10))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+*token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return fmt.Errorf("GET /api/audit: %s: %s", resp.Status, strings.TrimSpace(string(body)))
		}
		w := bufio.NewWriter(stdout)
		if _, err := io.Copy(w, resp.Body); err != nil {
			return err
		}
		return w.Flush()
	}
	return fmt.Errorf("%w: %s", errUsage, usage)
}

// runToken is `atoll token create|list|revoke`.
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "atoll token create --data-dir DIR|--database URL --name NAME --scope read|write|admin [--expires 90d] | atoll token list --data-dir DIR | atoll token revoke --data-dir DIR NAME"
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, usage)
	}
	fs := flag.NewFlagSet("atoll token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data-dir", "", "the server's data directory (the server must be stopped)")
	database := fs.String("database", "", "the server's PostgreSQL database URL (instead of --data-dir)")
	name := fs.String("name", "", "the token's name")
	scope := fs.String("scope", "read", "read, write or admin")
	expires := fs.String("expires", "", "lifetime: 90d, 36h (default: never)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	open := func() (server.Tokens, func(), error) {
		db, err := openDataDir(ctx, *dir, *database, args[0] == "create")
		if err != nil {
			return server.Tokens{}, nil, err
		}
		return server.Tokens{Store: db}, func() { db.Close() }, nil
	}
	switch args[0] {
	case "create":
		sc, err := server.ParseScope(*scope)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		var ttl time.Duration
		if *expires != "" {
			if ttl, err = server.ParseTTL(*expires); err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
		}
		if *name == "" {
			return fmt.Errorf("%w: --name is required", errUsage)
		}
		toks, closeDB, err := open()
		if err != nil {
			return err
		}
		defer closeDB()
		secret, tok, err := toks.Create(ctx, *name, sc, ttl, time.Now())
		if err != nil {
			return err
		}
		_, _ = audit.New(toks.Store.(locks.Store), nil).Append(ctx, audit.Entry{Actor: "cli", Action: "token.created", Outcome: "ok",
			Details: map[string]string{"name": tok.Name, "scope": string(tok.Scope)}})
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "token %s (%s) created; it is shown only this once\n", tok.Name, tok.Scope)
		return nil
	case "list":
		toks, closeDB, err := open()
		if err != nil {
			return err
		}
		defer closeDB()
		list, err := toks.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPE\tCREATED\tEXPIRES\tLAST USED")
		for _, t := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Scope, day(t.Created), orNever(t.Expires, "never"), orNever(t.LastUsed, "never"))
		}
		return tw.Flush()
	case "revoke":
		target := fs.Arg(0)
		if target == "" {
			target = *name
		}
		if target == "" {
			return fmt.Errorf("%w: atoll token revoke --data-dir DIR NAME", errUsage)
		}
		toks, closeDB, err := open()
		if err != nil {
			return err
		}
		defer closeDB()
		if err := toks.Revoke(ctx, target); err != nil {
			return err
		}
		_, _ = audit.New(toks.Store.(locks.Store), nil).Append(ctx, audit.Entry{Actor: "cli", Action: "token.revoked", Outcome: "ok",
			Details: map[string]string{"name": target}})
		fmt.Fprintf(stdout, "token %s revoked\n", target)
		return nil
	}
	return fmt.Errorf("%w: %s", errUsage, usage)
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func orNever(t time.Time, none string) string {
	if t.IsZero() {
		return none
	}
	return day(t)
}
