package runner

import (
	"context"

	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/terraform"
)

// The engine as runner/execute's Engine (wire.go builds the Jobs; the
// other services it is given directly).

// Sandbox is how the runner confines terraform (see execute.Sandbox).
type Sandbox = execute.Sandbox

// PlanFilesBucket is the record bucket of shared plan files, for `atoll
// db migrate`, which moves a data dir's plan files into it.
const PlanFilesBucket = execute.PlanFilesBucket

// execEngine is the engine as execute.Engine.
type execEngine struct{ r *Runner }

func (e execEngine) Blocked(ctx context.Context) (Outcome, bool) { return e.r.blockedOutcome(ctx) }
func (e execEngine) NoteApplying(ctx context.Context, job Job, s *terraform.Summary) {
	e.r.noteApplying(ctx, job, s)
}
func (e execEngine) DiscardPlan(ctx context.Context, p Plan) { e.r.pr.DiscardPlan(ctx, p) }
