package terraform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestE2ECancelReleasesStateLock cancels an apply while a provisioner
// sleeps. terraform gets an interrupt, stops within the grace period
// (no kill), its provisioner's sleep does not outlive it, and the state
// lock is released: a new plan and apply succeed.
func TestE2ECancelReleasesStateLock(t *testing.T) {
	for i, dist := range distributions {
		seconds := 4700 + i // an unusual duration, to find the sleep among processes
		t.Run(string(dist), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := fixture(t, "sleep")
			state := filepath.Join(t.TempDir(), "state", "terraform.tfstate")
			backend := InitOptions{BackendConfig: []string{"path=" + state}}
			out, started := watchFor("(local-exec): atoll-provisioner-started")
			w, _ := realWorkdir(t, dist, dir, Config{
				Env:       map[string]string{"TF_VAR_seconds": strconv.Itoa(seconds)},
				Output:    out,
				KillGrace: 30 * time.Second,
			})
			if err := w.Init(ctx, backend); err != nil {
				t.Fatal(err)
			}
			if outcome, err := w.Plan(ctx, PlanOptions{Out: "slow.tfplan"}); err != nil || outcome != Changes {
				t.Fatalf("Plan = %v, %v", outcome, err)
			}

			applyCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- w.Apply(applyCtx, "slow.tfplan") }()
			select {
			case <-started:
			case err := <-errc:
				t.Fatalf("apply ended before the provisioner started: %v", err)
			case <-time.After(60 * time.Second):
				t.Fatal("the provisioner did not start")
			}
			cancelled := time.Now()
			cancel()
			var err error
			select {
			case err = <-errc:
			case <-time.After(45 * time.Second):
				t.Fatal("apply did not stop after cancellation")
			}
			took := time.Since(cancelled)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if strings.Contains(err.Error(), "killed after") || took > 20*time.Second {
				t.Errorf("terraform needed the kill (%v): %v", took, err)
			}
			if !strings.Contains(out.String(), "Interrupt received") {
				t.Errorf("terraform did not report the interrupt")
			}
			// terraform removes its lock info when it releases the lock
			// itself; a killed terraform would leave it behind.
			if _, err := os.Stat(filepath.Join(filepath.Dir(state), ".terraform.tfstate.lock.info")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("state lock info still present after cancel (%v)", err)
			}
			// The kill is sent when run returns; give the kernel a moment.
			deadline := time.Now().Add(10 * time.Second)
			for pids := findProcesses("sleep", strconv.Itoa(seconds)); len(pids) > 0; pids = findProcesses("sleep", strconv.Itoa(seconds)) {
				if time.Now().After(deadline) {
					t.Errorf("the provisioner's sleep survived: %v", pids)
					break
				}
				time.Sleep(50 * time.Millisecond)
			}

			// A second plan and apply take the lock again.
			w2, out2 := realWorkdir(t, dist, dir, Config{Env: map[string]string{"TF_VAR_seconds": "0"}})
			if err := w2.Init(ctx, backend); err != nil {
				t.Fatal(err)
			}
			if outcome, err := w2.Plan(ctx, PlanOptions{Out: "again.tfplan", ExtraArgs: []string{"-lock-timeout=0s"}}); err != nil || outcome != Changes {
				t.Fatalf("plan after cancel = %v, %v", outcome, err)
			}
			if err := w2.Apply(ctx, "again.tfplan"); err != nil {
				t.Fatalf("apply after cancel: %v", err)
			}
			if strings.Contains(out2.String(), "state lock") {
				t.Errorf("lock trouble after cancel:\n%s", out2)
			}
		})
	}
}

// findProcesses returns the pids whose argv is exactly args.
func findProcesses(args ...string) []int {
	want := strings.Join(args, "\x00") + "\x00"
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(b) == want && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
