package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollhq/atoll/testdrive/emulator"
)

// A project that names no backend keeps its state across jobs (atoll keeps
// it in its data dir, not in the throwaway worktree), so apply then drift
// behave as for a project with a backend: this is the path a first-time
// user takes.
func TestProjectWithoutBackendKeepsState(t *testing.T) {
	e := Start(t, Options{})
	file := filepath.Join(e.Dir, "out", "hello.txt")
	tf := `terraform {
  required_providers {
    local = { source = "hashicorp/local" }
  }
}

resource "local_file" "hello" {
  filename = "` + file + `"
  content  = "hello\n"
}
`
	repo := e.Repo("nobackend", map[string]string{"README.md": "x\n"}, map[string]string{"alice": "write", "bob": "write"})
	n := e.PR(repo, "hello", "alice", map[string]*string{"main.tf": S(tf)})
	e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	if _, err := e.C.Control.Review(e.Ctx(), reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last := e.Comment(repo, n, "alice", "atoll apply")
	e.Wait(repo, n, last, "Apply complete!")
	if got, err := os.ReadFile(file); err != nil || string(got) != "hello\n" {
		t.Fatalf("apply did not write %s: %q, %v", file, got, err)
	}
	if _, err := e.C.Control.Merge(e.Ctx(), emulator.Merge{Repo: repo, Number: n, Author: "alice"}); err != nil {
		t.Fatal(err)
	}

	run := func() string {
		id, err := e.C.StartDrift(e.Ctx(), repo, "")
		if err != nil {
			t.Fatal(err)
		}
		dr, err := e.C.WaitDrift(e.Ctx(), id, 3*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(dr.Projects) != 1 {
			t.Fatalf("drift run has %d projects, want 1: %+v", len(dr.Projects), dr)
		}
		return dr.Projects[0].Status
	}
	if got := run(); got != "in_sync" {
		t.Fatalf("right after the apply the project is %s, want in_sync: its state was lost", got)
	}
	if err := os.WriteFile(file, []byte("edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run(); got != "drifted" {
		t.Fatalf("after an edit the project is %s, want drifted", got)
	}
	open, err := e.C.Issues(e.Ctx(), repo, "atoll:drift", "open")
	if err != nil || len(open) != 1 {
		t.Fatalf("want one open drift issue, got %d (%v)", len(open), err)
	}
	if err := os.WriteFile(file, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run(); got != "in_sync" {
		t.Fatalf("after the restore the project is %s, want in_sync", got)
	}
	open, err = e.C.Issues(e.Ctx(), repo, "atoll:drift", "open")
	if err != nil || len(open) != 0 {
		t.Fatalf("want the drift issue closed, %d still open (%v)", len(open), err)
	}
}
