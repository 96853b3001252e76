package terraform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanArgs(t *testing.T) {
	base := []string{"plan", "-input=false", "-no-color", "-detailed-exitcode"}
	tests := []struct {
		name    string
		opts    PlanOptions
		want    []string
		wantErr string
	}{
		{name: "defaults", opts: PlanOptions{}, want: base},
		{name: "out", opts: PlanOptions{Out: "plan.tfplan"}, want: append(base[:4:4], "-out=plan.tfplan")},
		{name: "refresh only", opts: PlanOptions{Out: "p", RefreshOnly: true}, want: append(base[:4:4], "-out=p", "-refresh-only")},
		{name: "destroy", opts: PlanOptions{Destroy: true}, want: append(base[:4:4], "-destroy")},
		{name: "var files then extra args", opts: PlanOptions{
			VarFiles:  []string{"a.tfvars", "../b.tfvars"},
			ExtraArgs: []string{"-target", "x.y", "-refresh=false"},
		}, want: append(base[:4:4], "-var-file=a.tfvars", "-var-file=../b.tfvars", "-target=x.y", "-refresh=false")},
		{name: "refused extra arg", opts: PlanOptions{ExtraArgs: []string{"-chdir=/"}}, wantErr: "-chdir"},
		{name: "refresh only and destroy", opts: PlanOptions{RefreshOnly: true, Destroy: true}, wantErr: "both"},
		{name: "refresh only and -destroy", opts: PlanOptions{RefreshOnly: true, ExtraArgs: []string{"-destroy"}}, wantErr: "both"},
		{name: "empty var file", opts: PlanOptions{VarFiles: []string{""}}, wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planArgs(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertArgs(t, got, tt.want)
		})
	}
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
				cmd, err := w.planCmd(context.Background(), o)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatal(err)
					}
					if got := cmd.Args[len(cmd.Args)-1]; got != "-var-file="+tt.file {
						t.Errorf("last arg %q", got)
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
