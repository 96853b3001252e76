package terraform

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrapper checks that a Wrapper is started instead of the binary,
// with terraform's argv and environment plus Wrapper.Env, and that
// TempDir becomes TMPDIR and holds the TF_VAR_ var file.
func TestWrapper(t *testing.T) {
	wrapDir, tmp := t.TempDir(), t.TempDir()
	wrapper := filepath.Join(wrapDir, "wrap")
	// The wrapper records its argv, then execs the program named in its
	// environment without that variable, as runner/sandbox does.
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" >> " + wrapDir + "/argv\nprog=$WRAP_PROGRAM\nunset WRAP_PROGRAM\nexec \"$prog\" \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("variable \"region\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, rec := newRecorder(t, "ls \"$TMPDIR\"/atoll-tfvars-*/ > "+wrapDir+"/tmp\nexit 0\n",
		Config{Dir: dir, TempDir: tmp, Env: map[string]string{"TF_VAR_region": "eu"}})
	// Point the Workdir at the wrapper, as New does with Config.Wrapper.
	w2, err := New(Config{Binary: w.cfg.Binary, Dir: dir, TempDir: tmp, Env: map[string]string{"TF_VAR_region": "eu"},
		Wrapper: &Wrapper{Path: wrapper, Env: map[string]string{"WRAP_PROGRAM": w.cfg.Binary.Path}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Plan(context.Background(), PlanOptions{Out: filepath.Join(tmp, "p.tfplan")}); err != nil {
		t.Fatal(err)
	}
	calls := rec.calls(t)
	if len(calls) != 1 || calls[0][0] != "plan" {
		t.Fatalf("terraform was run with %q", calls)
	}
	argv, err := os.ReadFile(filepath.Join(wrapDir, "argv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(argv), "version\n-json\n") || !strings.Contains(string(argv), "plan\n") {
		t.Errorf("the wrapper was not given terraform's arguments:\n%s", argv)
	}
	env := rec.env(t, 0)
	if v, _ := envValue(env, "TMPDIR"); v != tmp {
		t.Errorf("TMPDIR = %q, want %q", v, tmp)
	}
	if _, ok := envValue(env, "WRAP_PROGRAM"); ok {
		t.Error("the wrapper's variable reached terraform")
	}
	if v, ok := envValue(w2.Environ(), "WRAP_PROGRAM"); ok {
		t.Errorf("Environ, what custom steps see, holds the wrapper's variable (%q)", v)
	}
	if b, _ := os.ReadFile(filepath.Join(wrapDir, "tmp")); !strings.Contains(string(b), envVarFileName) {
		t.Errorf("the var file is not under TempDir: %q", b)
	}
}

func TestWrapperPathMustBeAbsolute(t *testing.T) {
	_, err := New(Config{Binary: Binary{Path: "/bin/true"}, Dir: t.TempDir(), Wrapper: &Wrapper{Path: "atoll"}})
	if err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("err = %v", err)
	}
}
