package terraform

import (
	"context"
	"testing"
)

func TestApplyArgs(t *testing.T) {
	got, err := applyArgs("/w/p.tfplan")
	if err != nil {
		t.Fatal(err)
	}
	assertArgs(t, got, []string{"apply", "-input=false", "-no-color", "/w/p.tfplan"})
	if _, err := applyArgs(""); err == nil {
		t.Error("apply without a plan file accepted")
	}
}

func TestApplyCmd(t *testing.T) {
	w := fakeWorkdir(t, "exit 0\n", Config{})
	cmd, err := w.applyCmd(context.Background(), "plans/p.tfplan")
	if err != nil {
		t.Fatal(err)
	}
	assertArgs(t, cmd.Args[1:], []string{"apply", "-input=false", "-no-color", w.Dir() + "/plans/p.tfplan"})
	if _, err := w.applyCmd(context.Background(), " "); err == nil {
		t.Error("blank plan file accepted")
	}
}
