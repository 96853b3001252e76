package execute_test

import (
	"context"
	"slices"
	"testing"

	"github.com/atollhq/atoll/runner/execute"
)

// Work a job body leaves for after its outcome runs only when the engine
// says so, last deferred first; without a job it runs at once.
func TestDeferAfterJob(t *testing.T) {
	var ran []string
	execute.DeferAfterJob(context.Background(), func() { ran = append(ran, "at once") })
	ctx, run := execute.WithAfterJob(context.Background())
	execute.DeferAfterJob(ctx, func() { ran = append(ran, "worktree") })
	execute.DeferAfterJob(ctx, func() { ran = append(ran, "temp dir") })
	if !slices.Equal(ran, []string{"at once"}) {
		t.Fatalf("ran before the outcome: %v", ran)
	}
	run()
	run() // once only
	if want := []string{"at once", "temp dir", "worktree"}; !slices.Equal(ran, want) {
		t.Errorf("ran %v, want %v", ran, want)
	}
}
