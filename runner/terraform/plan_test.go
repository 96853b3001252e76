package terraform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"
)

func TestPlanOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    PlanOptions
		envVars string
		want    []tfexec.PlanOption
		wantErr string
	}{
		{name: "defaults", opts: PlanOptions{}, want: nil},
		{name: "out", opts: PlanOptions{Out: "/p/plan.tfplan"}, want: []tfexec.PlanOption{tfexec.Out("/p/plan.tfplan")}},
		{name: "refresh only", opts: PlanOptions{Out: "p", RefreshOnly: true}, want: []tfexec.PlanOption{tfexec.Out("p"), tfexec.RefreshOnly(true)}},
		{name: "destroy", opts: PlanOptions{Destroy: true}, want: []tfexec.PlanOption{tfexec.Destroy(true)}},
		{name: "env var file first", envVars: "/tmp/x/atoll-env.tfvars.json", opts: PlanOptions{VarFiles: []string{"a.tfvars"}},
			want: []tfexec.PlanOption{tfexec.VarFile("/tmp/x/atoll-env.tfvars.json"), tfexec.VarFile("a.tfvars")}},
		{name: "var files then extra args", opts: PlanOptions{
			VarFiles: []string{"a.tfvars", "../b.tfvars"},
			ExtraArgs: []string{"-target", "x.y", "-refresh=false", "-replace=a.b", "-var", "n=1", "-var-file=c.tfvars",
				"-parallelism=3", "-lock-timeout=5s", "-destroy", "-no-color"},
		}, want: []tfexec.PlanOption{
			tfexec.VarFile("a.tfvars"), tfexec.VarFile("../b.tfvars"),
			tfexec.Target("x.y"), tfexec.Refresh(false), tfexec.Replace("a.b"), tfexec.Var("n=1"), tfexec.VarFile("c.tfvars"),
			tfexec.Parallelism(3), tfexec.LockTimeout("5s"), tfexec.Destroy(true),
		}},
		{name: "bools with values", opts: PlanOptions{ExtraArgs: []string{"-refresh", "-destroy=false"}},
			want: []tfexec.PlanOption{tfexec.Refresh(true), tfexec.Destroy(false)}},
		{name: "refused extra arg", opts: PlanOptions{ExtraArgs: []string{"-chdir=/"}}, wantErr: "-chdir"},
		{name: "no option in terraform-exec", opts: PlanOptions{ExtraArgs: []string{"-compact-warnings"}}, wantErr: "-compact-warnings: argument not allowed"},
		{name: "refresh only and destroy", opts: PlanOptions{RefreshOnly: true, Destroy: true}, wantErr: "both"},
		{name: "refresh only and -destroy", opts: PlanOptions{RefreshOnly: true, ExtraArgs: []string{"-destroy"}}, wantErr: "both"},
		{name: "empty var file", opts: PlanOptions{VarFiles: []string{""}}, wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planOptions(tt.opts, tt.envVars)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("options:\n got  %#v\n want %#v", got, tt.want)
			}
		})
	}
}

// TestPlanArgv checks the argv terraform-exec builds from Plan's options,
// as terraform-exec's own tests do with assertCmd, at the process
// boundary: a recording fake terraform.
func TestPlanArgv(t *testing.T) {
	w, rec := newRecorder(t, "exit 2\n", Config{})
	if err := os.WriteFile(filepath.Join(w.Dir(), "a.tfvars"), []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outcome, err := w.Plan(context.Background(), PlanOptions{Out: "plans/p.tfplan", RefreshOnly: true, VarFiles: []string{"a.tfvars"},
		ExtraArgs: []string{"-target", "x.y", "-var=n=1", "-lock-timeout=5s"}})
	if err != nil || outcome != Changes {
		t.Fatalf("Plan = %v, %v", outcome, err)
	}
	calls := rec.calls(t)
	if len(calls) != 1 {
		t.Fatalf("calls %q", calls)
	}
	assertArgs(t, calls[0], []string{"plan", "-no-color", "-input=false", "-detailed-exitcode",
		"-lock-timeout=5s", "-out=" + w.Dir() + "/plans/p.tfplan", "-var-file=a.tfvars",
		"-lock=true", "-parallelism=10", "-refresh=true", "-refresh-only", "-target=x.y", "-var", "n=1"})
}

func TestPlanCmdVarFileMustStayInRepo(t *testing.T) {
	repo := t.TempDir()
	dir := filepath.Join(repo, "project")
	outside := t.TempDir()
	for _, p := range []string{filepath.Join(dir, "in.tfvars"), filepath.Join(repo, "common.tfvars"), filepath.Join(outside, "secret.tfvars")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x = 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(outside, "secret.tfvars"), filepath.Join(dir, "link.tfvars")); err != nil {
		t.Fatal(err)
	}
	w := fakeWorkdir(t, "exit 0\n", Config{Dir: dir, RepoDir: repo})
	tests := []struct {
		file    string
		wantErr string
	}{
		{file: "in.tfvars"},
		{file: "../common.tfvars"},
		{file: "../../" + filepath.Base(outside) + "/secret.tfvars", wantErr: "outside the repository"},
		{file: "link.tfvars", wantErr: "outside the repository"},
		{file: "missing.tfvars", wantErr: "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			for _, o := range []PlanOptions{{VarFiles: []string{tt.file}}, {ExtraArgs: []string{"-var-file=" + tt.file}}} {
				err := w.checkPlan(o)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%+v: error = %v, want %q", o, err, tt.wantErr)
				}
			}
		})
	}
}

func TestPlanOutcomes(t *testing.T) {
	tests := []struct {
		exit    string
		want    PlanOutcome
		wantErr bool
	}{
		{exit: "0", want: NoChanges},
		{exit: "2", want: Changes},
		{exit: "1", want: PlanFailed, wantErr: true},
		{exit: "3", want: PlanFailed, wantErr: true},
	}
	for _, tt := range tests {
		t.Run("exit "+tt.exit, func(t *testing.T) {
			w := fakeWorkdir(t, "echo 'Error: boom' >&2\nexit "+tt.exit+"\n", Config{})
			got, err := w.Plan(context.Background(), PlanOptions{Out: "p.tfplan"})
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("Plan = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil {
				var te *Error
				if !errors.As(err, &te) || te.Command != "plan" || !strings.Contains(te.Stderr, "Error: boom") {
					t.Errorf("error %#v", err)
				}
			}
		})
	}
}

func TestPlanRefusedArgsDoNotRun(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	w := fakeWorkdir(t, "touch "+marker+"\n", Config{})
	outcome, err := w.Plan(context.Background(), PlanOptions{ExtraArgs: []string{"-state=x"}})
	if outcome != PlanFailed || !errors.Is(err, ErrArgNotAllowed) {
		t.Fatalf("Plan = %v, %v", outcome, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("terraform ran despite a refused argument")
	}
}

func TestPlanOutcomeString(t *testing.T) {
	for o, want := range map[PlanOutcome]string{PlanFailed: "failed", NoChanges: "no changes", Changes: "changes"} {
		if o.String() != want {
			t.Errorf("%d.String() = %q", o, o.String())
		}
	}
}
