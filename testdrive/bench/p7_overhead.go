package bench

import (
	"context"
	"path/filepath"
	"strconv"
	"time"

	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/testdrive"
)

// p7: init, plan and show -json through runner/terraform against the same
// commands bare, each on a fresh copy of one project.
func (b *bench) p7(ctx context.Context) (Row, error) {
	var got, ref []time.Duration
	for i := range b.o.Runs + 1 {
		d1 := filepath.Join(b.o.Dir, "p7", "atoll", strconv.Itoa(i))
		d2 := filepath.Join(b.o.Dir, "p7", "bare", strconv.Itoa(i))
		for _, d := range []string{d1, d2} {
			if err := writeFiles(d, map[string]string{"main.tf": localProject("p7"), ".terraform.lock.hcl": b.tf.lock}); err != nil {
				return Row{}, err
			}
		}
		t0 := time.Now()
		w, err := terraform.New(terraform.Config{Binary: b.tf.bin, Dir: d1, PluginCacheDir: b.tf.cache, CLIConfigFile: testdrive.ToolsCLIConfig()})
		if err != nil {
			return Row{}, err
		}
		if err := w.Init(ctx, terraform.InitOptions{}); err != nil {
			return Row{}, err
		}
		if _, _, err := w.PlanText(ctx, terraform.PlanOptions{Out: "bench.tfplan"}); err != nil {
			return Row{}, err
		}
		if _, _, err := w.Show(ctx, "bench.tfplan"); err != nil {
			return Row{}, err
		}
		d := time.Since(t0)
		t1 := time.Now()
		if err := b.tf.plan(ctx, d2, false); err != nil {
			return Row{}, err
		}
		if i == 0 && b.o.Runs > 1 {
			continue // warm-up
		}
		got, ref = append(got, d), append(ref, time.Since(t1))
	}
	g, r := statsOf(got), statsOf(ref)
	return Row{Result: g.String(), Reference: "bare: " + r.String(), Ratio: ratio(g.med, r.med)}, nil
}
