package terraform

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestE2EDriftHash changes files managed by hashicorp/local behind
// terraform's back: the hash of the plan stays the same while the drift
// does and changes with it, for normal and refresh-only plans.
func TestE2EDriftHash(t *testing.T) {
	for _, dist := range distributions {
		t.Run(string(dist), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := fixture(t, "local")
			w, _ := realWorkdir(t, dist, dir, Config{PluginCacheDir: t.TempDir()})
			if err := w.Init(ctx, InitOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Plan(ctx, PlanOptions{Out: "p.tfplan"}); err != nil {
				t.Fatal(err)
			}
			if err := w.Apply(ctx, "p.tfplan"); err != nil {
				t.Fatal(err)
			}
			write := func(name, content string) {
				t.Helper()
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// hash plans and returns the hash and summary of a plan.
			hash := func(refreshOnly bool) (string, *Summary) {
				t.Helper()
				outcome, err := w.Plan(ctx, PlanOptions{Out: "drift.tfplan", RefreshOnly: refreshOnly})
				if err != nil {
					t.Fatal(err)
				}
				sum, raw, err := w.Show(ctx, "drift.tfplan")
				if err != nil {
					t.Fatal(err)
				}
				if (outcome == Changes) != (sum.HasChanges || len(sum.Drifted) > 0) {
					t.Errorf("outcome %v but summary %+v", outcome, sum)
				}
				h, err := ResourceChangesHash(raw)
				if err != nil {
					t.Fatal(err)
				}
				return h, sum
			}

			for _, refreshOnly := range []bool{false, true} {
				clean, _ := hash(refreshOnly)
				write("a.txt", "edited")
				a1, sum := hash(refreshOnly)
				if !reflect.DeepEqual(sum.Drifted, []string{"local_file.a"}) {
					t.Errorf("refresh-only %v: drifted %v", refreshOnly, sum.Drifted)
				}
				a2, _ := hash(refreshOnly)
				write("a.txt", "alpha")
				write("b.txt", "edited")
				b, _ := hash(refreshOnly)
				write("a.txt", "edited")
				ab, _ := hash(refreshOnly)
				write("a.txt", "alpha")
				write("b.txt", "bravo")
				clean2, _ := hash(refreshOnly)

				if a1 != a2 {
					t.Errorf("refresh-only %v: the same drift hashed differently: %s, %s", refreshOnly, a1, a2)
				}
				if clean != clean2 {
					t.Errorf("refresh-only %v: no drift hashed differently: %s, %s", refreshOnly, clean, clean2)
				}
				seen := map[string]string{}
				for name, h := range map[string]string{"none": clean, "a": a1, "b": b, "a+b": ab} {
					if other, dup := seen[h]; dup {
						t.Errorf("refresh-only %v: drift %q and %q hash the same", refreshOnly, name, other)
					}
					seen[h] = name
				}
			}
		})
	}
}
