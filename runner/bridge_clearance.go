package runner

import (
	"context"

	"github.com/atollhq/atoll/vcs"
)

// The engine as runner/clearance's Engine (wire.go builds the Gatherer;
// the other services it is given directly). The Gatherer is built before
// the job bodies and the pull requests' Life, which need it, so it
// reaches them through the engine when it asks.

// gateEngine is the engine as clearance.Engine.
type gateEngine struct{ r *Runner }

func (b gateEngine) BaseRefOf(ctx context.Context, job Job) string {
	return b.r.exec.BaseRefOf(ctx, job)
}

func (b gateEngine) PlanSHA256(ctx context.Context, p Plan) (string, error) {
	return b.r.exec.PlanSHA256(ctx, p)
}

func (b gateEngine) Authorize(ctx context.Context, repo vcs.Repo, user, command string) (string, error) {
	return b.r.pr.Authorize(ctx, repo, user, command)
}
