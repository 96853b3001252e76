package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// writePolicies writes files (relative name -> content) into a new temporary
// directory and returns it.
func writePolicies(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// compileOne compiles a single mandatory set named "test" from rego source.
func compileOne(t *testing.T, src string, o Options) *Engine {
	t.Helper()
	dir := writePolicies(t, map[string]string{"policy.rego": src})
	e, err := Compile(context.Background(), []SetConfig{{Name: "test", Path: dir}}, o)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return e
}

// readFile reads a testdata file.
func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// planInput is an Input around a testdata plan.
func planInput(t *testing.T, plan string) Input {
	t.Helper()
	return Input{
		Plan:    readFile(t, filepath.Join("plans", plan)),
		Project: ProjectInput{Name: "app", Dir: "infra/app", Workspace: "default", Distribution: "terraform"},
		PullRequest: PullRequestInput{
			Number: 7, Author: "alice", Base: "main", HeadSHA: "0123456789abcdef0123456789abcdef01234567",
			ChangedFiles: []string{"infra/app/main.tf"}, Labels: []string{"infra"},
		},
		Repo: "acme/infra",
		User: "bob",
	}
}
