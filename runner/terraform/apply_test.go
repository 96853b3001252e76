package terraform

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"
)

func TestApplyOptions(t *testing.T) {
	got := applyOptions("/w/p.tfplan")
	if want := []tfexec.ApplyOption{tfexec.DirOrPlan("/w/p.tfplan")}; !reflect.DeepEqual(got, want) {
		t.Errorf("options %#v, want %#v", got, want)
	}
}

func TestApplyArgv(t *testing.T) {
	w, rec := newRecorder(t, "exit 0\n", Config{})
	if err := w.Apply(context.Background(), "plans/p.tfplan"); err != nil {
		t.Fatal(err)
	}
	calls := rec.calls(t)
	if len(calls) != 1 {
		t.Fatalf("calls %q", calls)
	}
	assertArgs(t, calls[0], []string{"apply", "-no-color", "-auto-approve", "-input=false",
		"-lock=true", "-parallelism=10", "-refresh=true", w.Dir() + "/plans/p.tfplan"})
	if err := w.Apply(context.Background(), " "); err == nil || !strings.Contains(err.Error(), "saved plans only") {
		t.Errorf("blank plan file: %v", err)
	}
	if n := len(rec.calls(t)); n != 1 {
		t.Errorf("%d commands ran", n)
	}
}
