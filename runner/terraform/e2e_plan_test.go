package terraform

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	e2eToken    = "tok-5be1c0de"   // a Secret printed in clear by terraform
	e2ePassword = "pw-0ddba11cafe" // a value terraform marks sensitive
)

// TestE2EPlanShowApply walks a project through init, plan, show, apply,
// a second configuration with every kind of change, and a final apply.
func TestE2EPlanShowApply(t *testing.T) {
	for _, dist := range distributions {
		t.Run(string(dist), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := fixture(t, "data")
			w, out := realWorkdir(t, dist, dir, Config{
				Env:     map[string]string{"TF_VAR_token": e2eToken, "TF_VAR_password": e2ePassword},
				Secrets: []string{e2eToken},
			})
			if err := w.Init(ctx, InitOptions{}); err != nil {
				t.Fatal(err)
			}
			outcome, err := w.Plan(ctx, PlanOptions{Out: "plans/1.tfplan"})
			if err != nil || outcome != Changes {
				t.Fatalf("first plan = %v, %v", outcome, err)
			}
			logText := out.String()
			if !strings.Contains(logText, "Plan: 4 to add, 0 to change, 0 to destroy.") || !strings.Contains(logText, `echo     = "***"`) {
				t.Errorf("plan output not streamed or not masked:\n%s", logText)
			}

			sum, raw, err := w.Show(ctx, "plans/1.tfplan")
			if err != nil {
				t.Fatal(err)
			}
			wantSum := &Summary{
				Create:     4,
				Creates:    []string{"terraform_data.gone", "terraform_data.keep", "terraform_data.old", "terraform_data.repl"},
				Outputs:    []OutputChange{{"echo", "create"}, {"label", "create"}, {"password", "create"}},
				HasChanges: true,
			}
			if !reflect.DeepEqual(sum, wantSum) {
				t.Errorf("summary:\n got  %+v\n want %+v", sum, wantSum)
			}
			if !json.Valid(raw) || !strings.Contains(string(raw), `"resource_changes"`) {
				t.Errorf("show -json output: %.200s", raw)
			}
			text, err := w.ShowText(ctx, "plans/1.tfplan")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, "terraform_data.keep will be created") || strings.Contains(text, "\x1b") {
				t.Errorf("ShowText:\n%s", text)
			}
			if err := w.Apply(ctx, "plans/1.tfplan"); err != nil {
				t.Fatal(err)
			}
			if outcome, err := w.Plan(ctx, PlanOptions{}); err != nil || outcome != NoChanges {
				t.Fatalf("plan after apply = %v, %v", outcome, err)
			}

			copyDir(t, filepath.Join("testdata", "data-v2"), dir)
			if outcome, err := w.Plan(ctx, PlanOptions{Out: "plans/2.tfplan"}); err != nil || outcome != Changes {
				t.Fatalf("second plan = %v, %v", outcome, err)
			}
			sum, _, err = w.Show(ctx, "plans/2.tfplan")
			if err != nil {
				t.Fatal(err)
			}
			wantSum = &Summary{
				Create: 1, Update: 1, Delete: 1, Replace: 1, Import: 1, Move: 1,
				Creates:    []string{"terraform_data.added"},
				Updates:    []string{"terraform_data.keep"},
				Deletes:    []string{"terraform_data.gone"},
				Replaces:   []string{"terraform_data.repl"},
				Imports:    []string{"terraform_data.imported"},
				Moves:      []Move{{From: "terraform_data.old", To: "terraform_data.new"}},
				Outputs:    []OutputChange{{"extra", "create"}, {"label", "update"}},
				HasChanges: true,
			}
			if !reflect.DeepEqual(sum, wantSum) {
				t.Errorf("second summary:\n got  %+v\n want %+v", sum, wantSum)
			}
			if err := w.Apply(ctx, "plans/2.tfplan"); err != nil {
				t.Fatal(err)
			}
			if outcome, err := w.Plan(ctx, PlanOptions{}); err != nil || outcome != NoChanges {
				t.Fatalf("plan after second apply = %v, %v", outcome, err)
			}

			all := out.String() + text
			if strings.Contains(all, e2eToken) {
				t.Error("a Secret reached the output or the plan text")
			}
			if strings.Contains(all, e2ePassword) {
				t.Error("a sensitive value reached the output or the plan text")
			}
		})
	}
}

// TestE2EPlanError: a failing plan is PlanFailed with terraform's
// diagnostics, masked, in the error.
func TestE2EPlanError(t *testing.T) {
	for _, dist := range distributions {
		t.Run(string(dist), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w, out := realWorkdir(t, dist, fixture(t, "invalid"), Config{
				Env:     map[string]string{"TF_VAR_token": e2eToken},
				Secrets: []string{e2eToken},
			})
			if err := w.Init(ctx, InitOptions{}); err != nil {
				t.Fatal(err)
			}
			outcome, err := w.Plan(ctx, PlanOptions{Out: "p.tfplan"})
			if outcome != PlanFailed || err == nil {
				t.Fatalf("Plan = %v, %v", outcome, err)
			}
			var te *Error
			if !errors.As(err, &te) || te.ExitCode != 1 {
				t.Fatalf("err = %#v", err)
			}
			if !strings.Contains(err.Error(), "The token was rejected.") {
				t.Errorf("error lacks the diagnostic: %v", err)
			}
			if !strings.Contains(err.Error()+out.String(), `"***"`) {
				t.Errorf("expected the masked token in the diagnostic: %v", err)
			}
			if strings.Contains(err.Error(), e2eToken) || strings.Contains(out.String(), e2eToken) {
				t.Errorf("secret leaked: %v", err)
			}
		})
	}
}

// TestE2EExtraArgs: allowed extra arguments reach terraform, through
// terraform-exec's options.
func TestE2EExtraArgs(t *testing.T) {
	for _, dist := range distributions {
		t.Run(string(dist), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := fixture(t, "data")
			if err := os.WriteFile(filepath.Join(dir, "labels.tfvars"), []byte("label = \"from-file\"\ntoken = \"file-token\"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			w, _ := realWorkdir(t, dist, dir, Config{})
			if err := w.Init(ctx, InitOptions{}); err != nil {
				t.Fatal(err)
			}
			outcome, err := w.Plan(ctx, PlanOptions{Out: "p.tfplan", ExtraArgs: []string{
				"-target", "terraform_data.keep", "-var-file=labels.tfvars", "-var", "token=from-var",
				"-parallelism=2", "-lock-timeout=5s", "-refresh=false", "-no-color",
			}})
			if err != nil || outcome != Changes {
				t.Fatalf("Plan = %v, %v", outcome, err)
			}
			sum, raw, err := w.Show(ctx, "p.tfplan")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sum.Creates, []string{"terraform_data.keep"}) || !strings.Contains(string(raw), "from-file") {
				t.Errorf("-target or -var-file not applied: %+v", sum)
			}
			if !strings.Contains(string(raw), "from-var") || strings.Contains(string(raw), "file-token") {
				t.Errorf("-var does not win over -var-file")
			}
		})
	}
}

// TestE2EWorkspace: select creates a missing workspace, then selects it.
func TestE2EWorkspace(t *testing.T) {
	for _, dist := range distributions {
		t.Run(string(dist), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := fixture(t, "data")
			w, _ := realWorkdir(t, dist, dir, Config{})
			if err := w.Init(ctx, InitOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"staging", "staging", "default", "staging"} {
				if err := w.SelectWorkspace(ctx, name); err != nil {
					t.Fatalf("select %s: %v", name, err)
				}
				b, err := os.ReadFile(filepath.Join(dir, ".terraform", "environment"))
				if got := strings.TrimSpace(string(b)); (err != nil && name != "default") || (err == nil && got != name) {
					t.Fatalf("after selecting %s the workspace is %q (%v)", name, got, err)
				}
			}
			if outcome, err := w.Plan(ctx, PlanOptions{}); err != nil || outcome != Changes {
				t.Fatalf("plan in staging = %v, %v", outcome, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "terraform.tfstate.d", "staging")); err != nil {
				t.Errorf("no state directory for the new workspace: %v", err)
			}
		})
	}
}
