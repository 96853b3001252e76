package runner

import (
	"context"

	"github.com/atollhq/atoll/runner/view"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// What the runner says on pull requests is runner/view's. The wrappers
// below keep the root's callers as they were; a cleanup after the split
// calls view directly.

// view is the runner's view: its records, code host, templates, masker
// and the server settings that change what a comment shows.
func (r *Runner) view() *view.View {
	return &view.View{Records: r.rec, Comments: r.host, Facts: viewFacts{r}, Templates: r.tmpl, Masker: r.masker,
		Options: view.Options{QuietPolicyChecks: r.srv.QuietPolicyChecks, SummaryOnly: r.srv.SummaryOnly,
			Unsandboxed: r.cfg.Sandbox == nil, HTMLURL: r.cfg.HTMLURL},
		Log: r.log}
}

// viewFacts is the runner as view.Facts.
type viewFacts struct{ r *Runner }

func (f viewFacts) JobURL(jobID string) string { return f.r.jobURL(jobID) }

func (f viewFacts) ApprovalsFor(ctx context.Context, j Job) map[string][]string {
	return f.r.approvalsFor(ctx, j)
}

// renderRun renders a run's comment, one edit of a run's comment at a
// time (runMu).
func (r *Runner) renderRun(ctx context.Context, runID string) error {
	defer r.runMu.lock(runID)()
	return r.view().RenderRun(ctx, runID)
}

func (r *Runner) runJobs(ctx context.Context, run Run) ([]Job, error) {
	return view.RunJobs(ctx, r.rec, run)
}

func commandName(c string) string { return view.CommandName(c) }

func trigger(run Run) templates.Trigger { return view.Trigger(run) }

func (r *Runner) projectResult(ctx context.Context, j Job) templates.ProjectResult {
	return r.view().ProjectResult(ctx, j)
}

func (r *Runner) prURL(repo string, number int) string { return r.view().PRURL(repo, number) }

func (r *Runner) mask(s string) string { return r.masker.Mask(s) }

func (r *Runner) reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error {
	return r.view().Reply(ctx, repo, number, name, data)
}

func (r *Runner) text(m templates.Message) string { return r.view().Text(m) }

func (r *Runner) checkText(state templates.CheckState, j Job) templates.CheckOutput {
	return r.view().CheckText(state, j)
}

func (r *Runner) say(ctx context.Context, repo vcs.Repo, number int, m templates.Message) error {
	return r.view().Say(ctx, repo, number, m)
}

func (r *Runner) replyOnce(ctx context.Context, pr vcs.PullRequest, kind, name string, data any) error {
	return r.view().ReplyOnce(ctx, pr, kind, name, data)
}

// replyConfigError audits a broken repository configuration and tells
// the pull request about it.
func (r *Runner) replyConfigError(ctx context.Context, pr vcs.PullRequest, ce *configError) error {
	r.auditConfigError(ctx, pr, ce)
	return r.view().ReplyConfigError(ctx, pr, ce)
}

func (r *Runner) configNote(rc RepoConfig) string { return r.view().ConfigNote(rc) }
