package runner

import (
	"context"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/vcs"
)

// The engine as runner/clearance's Configs and Engine (wire.go builds
// the Gatherer).

// gateConfigs is the engine as clearance.Configs.
type gateConfigs struct{ r *Runner }

func (b gateConfigs) RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (RepoConfig, error) {
	return b.r.projects.RepoConfig(ctx, repo, ref, base)
}

func (b gateConfigs) EffectiveRequirements(repo, base string, p config.Project) []string {
	return projects.EffectiveRequirements(b.r.srv, repo, base, p)
}

func (b gateConfigs) BaseRefOf(ctx context.Context, job Job) string {
	return b.r.exec.BaseRefOf(ctx, job)
}

func (b gateConfigs) FetchPR(ctx context.Context, pr vcs.PullRequest) error {
	return b.r.projects.FetchPR(ctx, pr)
}

// gateEngine is the engine as clearance.Engine.
type gateEngine struct{ r *Runner }

func (b gateEngine) AuditReview(ctx context.Context, pr vcs.PullRequest, user string, perm vcs.Permission) {
	b.r.trail.Review(ctx, pr, user, perm)
}

func (b gateEngine) PlanSHA256(ctx context.Context, p Plan) (string, error) {
	return b.r.exec.PlanSHA256(ctx, p)
}

func (b gateEngine) Authorize(ctx context.Context, repo vcs.Repo, user, command string) (string, error) {
	return b.r.pr.Authorize(ctx, repo, user, command)
}

func (b gateEngine) Reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error {
	return b.r.view.Reply(ctx, repo, number, name, data)
}

func (b gateEngine) Mask(s string) string { return b.r.masker.Mask(s) }

func (b gateEngine) JobURL(id string) string { return b.r.jobURL(id) }
