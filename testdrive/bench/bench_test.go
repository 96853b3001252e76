package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every figure once at its smallest and checks only that
// each row is filled: no figure is asserted (make bench measures them).
func TestSmoke(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "atoll")
	build := exec.Command("go", "build", "-o", bin, "github.com/atollhq/atoll/cmd/atoll")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build atoll: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	o := Smoke(bin)
	o.Dir = t.TempDir()
	o.Progress = testWriter{t}
	rows, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "S1", "S2"}
	if len(rows) != len(ids) {
		t.Fatalf("%d rows, want %d", len(rows), len(ids))
	}
	for i, r := range rows {
		if want := ids[i]; r.ID != want {
			t.Errorf("row %d is %s, want %s", i, r.ID, want)
		}
		if r.Result == "" || r.Result == "—" || strings.HasPrefix(r.Result, "error") {
			t.Errorf("%s: result %q", r.ID, r.Result)
		}
	}
	table := Markdown(rows)
	if strings.Count(table, "\n") != len(ids)+2 {
		t.Errorf("table:\n%s", table)
	}
	t.Logf("\n%s", table)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
