package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/config/migrate"
)

// runConfig is `atoll config validate [FILE]`.
func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "validate" {
		return fmt.Errorf("%w: atoll config validate [FILE]", errUsage)
	}
	fs := flag.NewFlagSet("atoll config validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverCfg := fs.String("server-config", "", "check the file against this server configuration's rules (default: the server defaults)")
	repo := fs.String("repo", "", "with --server-config: the repository (owner/name) whose repo_rules apply")
	branch := fs.String("branch", "", "with --repo: the base branch, for repo_rules with a branch")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	path := ""
	if fs.NArg() > 0 {
		path = fs.Arg(0)
	}
	code := 0
	if *serverCfg != "" {
		srv, err := config.LoadServer(*serverCfg, nil, nil)
		if err != nil {
			return fmt.Errorf("server configuration:\n%w", err)
		}
		code = config.ValidateWith(path, srv.ForRepo(*repo, *branch), stdout)
	} else {
		code = config.Validate(path, stdout)
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}

// runPolicy is `atoll policy check` and `atoll policy test`.
func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: atoll policy check|test ...", errUsage)
	}
	switch args[0] {
	case "check":
		fs := flag.NewFlagSet("atoll policy check", flag.ContinueOnError)
		fs.SetOutput(stderr)
		dir := fs.String("policies", "", "directory of .rego files (one policy set)")
		inputDoc := fs.Bool("input-doc", false, "each FILE is a full input document, not a terraform show -json plan")
		format := fs.String("format", policy.FormatAtoll, "how the Rego is read: atoll (package atoll, input {plan, project, ...}) or conftest (deny/violation/warn in package main, input the bare plan)")
		namespaces := fs.String("namespace", "", "with --format conftest: comma-separated Rego packages to read rules from (default main)")
		if err := fs.Parse(args[1:]); err != nil {
			return exitError{2}
		}
		if *dir == "" || fs.NArg() == 0 {
			fmt.Fprintln(stderr, "usage: atoll policy check --policies DIR [--format atoll|conftest] [--namespace NS,...] [--input-doc] FILE...")
			return exitError{2}
		}
		o := policy.CheckOptions{InputDoc: *inputDoc, Format: *format}
		for _, ns := range strings.Split(*namespaces, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				o.Namespaces = append(o.Namespaces, ns)
			}
		}
		if code := policy.Check(ctx, *dir, o, fs.Args(), stdout); code != 0 {
			return exitError{code}
		}
		return nil
	case "test":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: atoll policy test DIR")
			return exitError{2}
		}
		if code := policy.Test(ctx, args[1], stdout); code != 0 {
			return exitError{code}
		}
		return nil
	}
	return fmt.Errorf("%w: unknown policy command %q (check, test)", errUsage, args[0])
}

// runDrift is `atoll drift run`: it asks a running server for a drift
// check through its REST API and, with --wait, prints the result.
func runDrift(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		return fmt.Errorf("%w: atoll drift run --server URL --token T [--repo R] [--project P] [--wait]", errUsage)
	}
	fs := flag.NewFlagSet("atoll drift run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serverURL := fs.String("server", os.Getenv("ATOLL_SERVER"), "atoll's URL")
	token := fs.String("token", os.Getenv("ATOLL_API_TOKEN"), "the server's API token")
	repo := fs.String("repo", "", "repository owner/name (default: every repository atoll serves)")
	project := fs.String("project", "", "one project of --repo (default: all)")
	wait := fs.Bool("wait", false, "wait for the runs to finish and print their results; exit 1 if a project drifted or failed")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *serverURL == "" || *token == "" {
		return fmt.Errorf("%w: --server and --token are required", errUsage)
	}
	if *project != "" && *repo == "" {
		return fmt.Errorf("%w: --project needs --repo", errUsage)
	}
	api := &driftAPI{base: strings.TrimSuffix(*serverURL, "/"), token: *token}
	repos := []string{*repo}
	if *repo == "" {
		var err error
		if repos, err = api.repos(ctx); err != nil {
			return err
		}
	}
	ids := map[string]string{}
	for _, r := range repos {
		id, err := api.start(ctx, r, *project)
		if err != nil {
			return err
		}
		ids[r] = id
		fmt.Fprintf(stdout, "drift run %s started for %s\n", id, r)
	}
	if !*wait {
		return nil
	}
	bad := false
	for _, r := range repos {
		run, err := api.wait(ctx, ids[r])
		if err != nil {
			return err
		}
		for _, p := range run.Projects {
			issue := "-"
			if p.Issue != nil {
				issue = fmt.Sprintf("#%d", *p.Issue)
			}
			fmt.Fprintf(stdout, "%-30s %-24s %-10s issue %s\n", r, p.Project, p.Status, issue)
			bad = bad || p.Status != "in_sync"
		}
		if run.Error != "" {
			fmt.Fprintf(stdout, "%s: error: %s\n", r, run.Error)
			bad = true
		}
	}
	if bad {
		return exitError{1}
	}
	return nil
}

type driftAPI struct{ base, token string }

type driftRunView struct {
	State    string `json:"state"`
	Error    string `json:"error"`
	Projects []struct {
		Project string `json:"project"`
		Status  string `json:"status"`
		Issue   *int   `json:"issue"`
	} `json:"projects"`
}

func (a *driftAPI) start(ctx context.Context, repo, project string) (string, error) {
	body, _ := json.Marshal(map[string]string{"repo": repo, "project": project})
	var out struct {
		RunID string `json:"run_id"`
	}
	if err := a.do(ctx, http.MethodPost, "/api/drift/run", body, http.StatusAccepted, &out); err != nil {
		return "", err
	}
	return out.RunID, nil
}

// repos lists the repositories the server serves.
func (a *driftAPI) repos(ctx context.Context) ([]string, error) {
	var out struct {
		Repos []string `json:"repos"`
	}
	err := a.do(ctx, http.MethodGet, "/api/repos", nil, http.StatusOK, &out)
	return out.Repos, err
}

// wait polls a drift run until it is done.
func (a *driftAPI) wait(ctx context.Context, id string) (driftRunView, error) {
	for {
		run, err := a.get(ctx, id)
		if err != nil || run.State == "done" {
			return run, err
		}
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (a *driftAPI) get(ctx context.Context, id string) (driftRunView, error) {
	var out driftRunView
	err := a.do(ctx, http.MethodGet, "/api/drift/runs/"+id, nil, http.StatusOK, &out)
	return out, err
}

func (a *driftAPI) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	return json.Unmarshal(data, out)
}

// runMigrate is `atoll migrate atlantis --repos-yaml FILE [--flags FILE]
// --out FILE`.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "atlantis" {
		return fmt.Errorf("%w: atoll migrate atlantis --repos-yaml FILE [--flags FILE] --out FILE", errUsage)
	}
	fs := flag.NewFlagSet("atoll migrate atlantis", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repos := fs.String("repos-yaml", "", "the Atlantis server's server-side repo config (repos.yaml, or the JSON of --repo-config-json)")
	flagsFile := fs.String("flags", "", "the Atlantis server's flags: the YAML its --config reads, or ATLANTIS_*=VALUE lines")
	out := fs.String("out", "", "where to write the atoll server configuration")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *out == "" || (*repos == "" && *flagsFile == "") || fs.NArg() > 0 {
		return fmt.Errorf("%w: atoll migrate atlantis --repos-yaml FILE [--flags FILE] --out FILE", errUsage)
	}
	in := migrate.AtlantisInput{ReposFile: *repos, FlagsFile: *flagsFile}
	if *repos != "" {
		data, err := os.ReadFile(*repos)
		if err != nil {
			return fmt.Errorf("read the repo config: %w", err)
		}
		in.ReposYAML = data
	}
	if *flagsFile != "" {
		data, err := os.ReadFile(*flagsFile)
		if err != nil {
			return fmt.Errorf("read the flags: %w", err)
		}
		if in.Flags, err = migrate.FlagsFrom(data); err != nil {
			return fmt.Errorf("%s: %w", *flagsFile, err)
		}
	}
	res, err := migrate.Atlantis(in)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, res.Server, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	if len(res.Notes) > 0 {
		fmt.Fprintln(stdout, "\nCarried over with a change to check:")
		for _, n := range res.Notes {
			fmt.Fprintf(stdout, "  - %s\n", n)
		}
	}
	if len(res.Dropped) > 0 {
		fmt.Fprintf(stdout, "\nNot carried over (%d):\n", len(res.Dropped))
		for _, d := range res.Dropped {
			fmt.Fprintf(stdout, "  - %s\n", d)
		}
	}
	fmt.Fprintf(stdout, "\nCheck it: atoll server --config %s (with the secrets above given)\n", *out)
	return nil
}
