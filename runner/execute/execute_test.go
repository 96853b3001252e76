package execute_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/templates"
)

func TestTailKeepsLastLines(t *testing.T) {
	tb := execute.NewTail(3)
	for _, chunk := range []string{"one\ntw", "o\nthree\n", "\x1b[31mfour\x1b[0m\nfi", "ve"} {
		if _, err := tb.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := tb.String(), "three\nfour\nfive"; got != want {
		t.Errorf("tail = %q, want %q (last lines, ANSI stripped)", got, want)
	}
}

func TestFailureNamesTheStep(t *testing.T) {
	tail := execute.NewTail(2)
	fmt.Fprint(tail, "a\nb\nError: no such provider\n")
	tests := []struct {
		name      string
		err       error
		wantStep  string
		wantError string
		tail      *execute.Tail
		wantTail  string
	}{
		{"a named step", execute.Step("init", errors.New("exit status 1")), "init", "exit status 1", tail, "b\nError: no such provider"},
		{"wrapped", fmt.Errorf("job: %w", execute.Step("plan", errors.New("boom"))), "plan", "boom", nil, ""},
		{"no step", errors.New("disk full"), "internal", "disk full", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := execute.Failure(templates.StatusPlanError, tc.err, tc.tail)
			if o.Status != string(templates.StatusPlanError) || o.FailedStep != tc.wantStep || o.Error != tc.wantError || o.LogTail != tc.wantTail {
				t.Errorf("Failure = %+v; want step %q, error %q, tail %q", o, tc.wantStep, tc.wantError, tc.wantTail)
			}
		})
	}
	if execute.Step("init", nil) != nil {
		t.Error("Step of no error is an error")
	}
}

func TestSpaceWritesLogTailAndApplyText(t *testing.T) {
	var log strings.Builder
	sp := execute.NewSpace("/work/j1", &log, true)
	fmt.Fprint(sp.W, "Apply complete!\n")
	if log.String() != "Apply complete!\n" || sp.Apply.String() != "Apply complete!\n" || sp.Tail.String() != "Apply complete!" || sp.Dir != "/work/j1" {
		t.Errorf("log %q, apply %q, tail %q, dir %q", log.String(), sp.Apply.String(), sp.Tail.String(), sp.Dir)
	}
	if plan := execute.NewSpace("/work/j2", &log, false); plan.Apply != nil {
		t.Error("a plan's space keeps an apply text")
	}
}

func TestStagePlanChecksTheDigest(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "j1.tfplan")
	if err := os.WriteFile(src, []byte("plan bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, err := execute.FileSHA256(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	got, err := execute.StagePlan(src, sum, tmp)
	if err != nil || got != filepath.Join(tmp, "j1.tfplan") {
		t.Fatalf("StagePlan = %q, %v", got, err)
	}
	if b, _ := os.ReadFile(got); string(b) != "plan bytes" {
		t.Errorf("staged %q", b)
	}
	if _, err := execute.StagePlan(src, strings.Repeat("0", 64), tmp); !errors.Is(err, execute.ErrPlanMismatch) {
		t.Error("a plan file whose digest differs was staged")
	}
}

// TestStagePlanNeverWritesThroughSymlinks checks that a symlink a
// sandboxed command left in the job's temp dir where the plan is staged
// is replaced, not written through (the file it names, outside, keeps its
// bytes), and that CopyFile refuses a source that is a symlink out of its
// dir: the temp dir is the sandbox's to write.
func TestStagePlanNeverWritesThroughSymlinks(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "j1.tfplan")
	if err := os.WriteFile(src, []byte("plan bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(tmp, "j1.tfplan")); err != nil {
		t.Fatal(err)
	}
	sum, _ := execute.FileSHA256(src)
	got, err := execute.StagePlan(src, sum, tmp)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("StagePlan wrote through the symlink: %q", b)
	}
	if fi, err := os.Lstat(got); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the staged plan is not a regular file: %v %v", fi, err)
	}
	leak := filepath.Join(tmp, "leak.tfplan")
	if err := os.Symlink(victim, leak); err != nil {
		t.Fatal(err)
	}
	if err := execute.CopyFile(leak, filepath.Join(dir, "kept.tfplan")); err == nil {
		t.Error("CopyFile read a file outside its dir through a symlink")
	}
}
