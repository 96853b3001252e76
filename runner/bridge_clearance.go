package runner

import (
	"context"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/clearance"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// This file connects the engine to runner/clearance, which gathers the
// facts runner/gate decides from. The wrappers below keep the names the
// rest of the root package calls until each caller moves.

// gates is the engine's Gatherer, over the engine's host, git, records
// and configuration.
func (r *Runner) gates() *clearance.Gatherer {
	d := clearance.Deps{Server: r.srv, DefaultRequirements: requirementNames(r.srv.ApplyRequirements),
		Host: r.host, Git: r.git, Configs: clearanceBridge{r}, Engine: clearanceBridge{r}, Records: r.rec,
		Templates: r.tmpl, Log: r.log}
	if r.cfg.Policies != nil {
		d.Policies = r.cfg.Policies
	}
	return clearance.New(d)
}

// clearanceBridge is the engine as clearance.Configs and clearance.Engine.
type clearanceBridge struct{ r *Runner }

func (b clearanceBridge) RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (RepoConfig, error) {
	return b.r.repoConfig(ctx, repo, ref, base)
}

func (b clearanceBridge) EffectiveRequirements(repo, base string, p config.Project) []string {
	return b.r.effectiveRequirements(repo, base, p)
}

func (b clearanceBridge) BaseRefOf(ctx context.Context, job Job) string {
	return b.r.baseRefOf(ctx, job)
}

func (b clearanceBridge) FetchPR(ctx context.Context, pr vcs.PullRequest) error {
	return b.r.fetchPR(ctx, pr)
}

func (b clearanceBridge) AuditReview(ctx context.Context, pr vcs.PullRequest, user string, perm vcs.Permission) {
	b.r.auditReview(ctx, pr, user, perm)
}

func (b clearanceBridge) PlanSHA256(ctx context.Context, p Plan) (string, error) {
	return b.r.planSHA256(ctx, p)
}

func (b clearanceBridge) Authorize(ctx context.Context, repo vcs.Repo, user, command string) (string, error) {
	return b.r.authorize(ctx, repo, user, command)
}

func (b clearanceBridge) Reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error {
	return b.r.reply(ctx, repo, number, name, data)
}

func (b clearanceBridge) Mask(s string) string { return b.r.mask(s) }

func (b clearanceBridge) JobURL(id string) string { return b.r.jobURL(id) }

func (b clearanceBridge) PendingDependencies(p Plan, plans map[string]Plan, applying map[string]int) []string {
	return pendingDependencies(p, plans, applying)
}

func (r *Runner) baseRules(ctx context.Context, repo vcs.Repo, baseSHA, baseRef string, p Project) gate.Rules {
	return r.gates().BaseRules(ctx, repo, baseSHA, baseRef, p)
}

func (r *Runner) gatePolicies(ctx context.Context, job Job, results []policy.Result) []gate.Policy {
	return r.gates().Policies(ctx, job, results)
}

func (r *Runner) decidePolicies(ctx context.Context, path gate.Path, job Job, results []policy.Result) gate.Decision {
	return r.gates().DecidePolicies(ctx, path, job, results)
}

func (r *Runner) renderReasons(rs []gate.Reason) []string { return r.gates().RenderReasons(rs) }

func (r *Runner) refusedProject(name string, d gate.Decision) templates.RefusedProject {
	return r.gates().RefusedProject(name, d)
}

func (r *Runner) gateMerged(ctx context.Context, pr vcs.PullRequest, path gate.Path, projects []Project) ([]Project, []gate.Clearance, error) {
	return r.gates().Merged(ctx, pr, path, projects)
}

func (r *Runner) checkRequirements(ctx context.Context, pr vcs.PullRequest, rc RepoConfig, plans []Plan) ([]templates.RefusedProject, []gate.Clearance, error) {
	return r.gates().Requirements(ctx, pr, rc, plans)
}

func (r *Runner) unmetPlanRequirements(ctx context.Context, pr vcs.PullRequest, reqs []string) ([]string, error) {
	return r.gates().UnmetPlanRequirements(ctx, pr, reqs)
}

func (r *Runner) policyChecksOff(ctx context.Context, job Job) bool {
	return r.gates().PolicyChecksOff(ctx, job)
}

func (r *Runner) scopedMandatory(results []policy.Result) []policy.Result {
	return r.gates().ScopedMandatory(results)
}

func (r *Runner) approvalsFor(ctx context.Context, j Job) map[string][]string {
	return r.gates().ApprovalsFor(ctx, j)
}

func (r *Runner) reviewCanApprove(results []policy.Result) bool {
	return r.gates().ReviewCanApprove(results)
}

func (r *Runner) policySet(name string) policy.SetConfig { return r.gates().PolicySet(name) }

func (r *Runner) isOwner(ctx context.Context, repo vcs.Repo, user string, owners []string) bool {
	return r.gates().IsOwner(ctx, repo, user, owners)
}

func (r *Runner) policyCheck(ctx context.Context, j Job, pr templates.ProjectResult) {
	r.gates().PolicyCheck(ctx, j, pr)
}
