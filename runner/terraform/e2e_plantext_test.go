package terraform

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EPlanTextMatchesShow: the text PlanText takes from the plan run
// is the text "show PLANFILE" prints for the same plan, for a first plan,
// a plan with every kind of change after an apply (refreshed objects
// before it), a plan with no changes and a refresh-only plan; secrets are
// masked in it as in ShowText.
func TestE2EPlanTextMatchesShow(t *testing.T) {
	for _, dist := range distributions {
		t.Run(string(dist), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := fixture(t, "data")
			w, _ := realWorkdir(t, dist, dir, Config{
				Env:     map[string]string{"TF_VAR_token": e2eToken, "TF_VAR_password": e2ePassword},
				Secrets: []string{e2eToken},
			})
			if err := w.Init(ctx, InitOptions{}); err != nil {
				t.Fatal(err)
			}
			same := func(name string, o PlanOptions, want PlanOutcome) {
				t.Helper()
				outcome, text, err := w.PlanText(ctx, o)
				if err != nil || outcome != want {
					t.Fatalf("%s: %v, %v; want %v", name, outcome, err, want)
				}
				shown, err := w.ShowText(ctx, o.Out)
				if err != nil {
					t.Fatal(err)
				}
				if strings.TrimSpace(text) != strings.TrimSpace(shown) {
					t.Errorf("%s: the plan's text differs from show's\n--- plan:\n%s\n--- show:\n%s", name, text, shown)
				}
				if strings.Contains(text, e2eToken) {
					t.Errorf("%s: the secret is not masked:\n%s", name, text)
				}
			}
			same("first plan", PlanOptions{Out: "plans/1.tfplan"}, Changes)
			if err := w.Apply(ctx, "plans/1.tfplan"); err != nil {
				t.Fatal(err)
			}
			same("no changes", PlanOptions{Out: "plans/2.tfplan"}, NoChanges)
			same("refresh-only", PlanOptions{Out: "plans/3.tfplan", RefreshOnly: true}, NoChanges)
			copyDir(t, filepath.Join("testdata", "data-v2"), dir)
			same("every change", PlanOptions{Out: "plans/4.tfplan"}, Changes)
		})
	}
}
