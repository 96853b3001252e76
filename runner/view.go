package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// renderRun renders a run's comment from its jobs and creates or edits
// it in place, in as many parts as GitHub's size limit needs.
func (r *Runner) renderRun(ctx context.Context, runID string) error {
	defer r.runMu.lock(runID)()
	var run Run
	if ok, err := r.rec.Get(ctx, records.Runs, runID, &run); err != nil || !ok {
		return fmt.Errorf("load run %s: %v", runID, err)
	}
	jobs, err := r.runJobs(ctx, run)
	if err != nil {
		return err
	}
	if silenced(commandName(run.Command), jobs) && len(run.Comments) == 0 {
		return nil
	}
	c := templates.CommandComment{
		ID: run.ID, Command: commandName(run.Command), User: run.User, HeadSHA: run.HeadSHA,
		Status: templates.RunDone, Message: run.Message, Unsandboxed: r.cfg.Sandbox == nil,
	}
	if run.User == "" {
		c.Trigger = trigger(run)
	}
	for _, j := range jobs {
		if !j.State.Final() {
			c.Status = templates.RunRunning
		}
		p := r.projectResult(ctx, j)
		if r.srv.QuietPolicyChecks {
			p.Policies = quietPolicies(p.Policies)
		}
		if run.Options.Verbose && j.State.Final() {
			p.Log = logTail(j.LogPath, verboseLines)
		}
		c.Projects = append(c.Projects, p)
	}
	body, err := r.tmpl.RenderCommandComment(c)
	if err != nil {
		return fmt.Errorf("render run %s: %w", runID, err)
	}
	return r.writeParts(ctx, &run, templates.Split(r.mask(body), templates.CommentLimit))
}

// silenced reports whether every job's project silences cmd's pull
// request comment (silence_pr_comments); false for a run without jobs.
func silenced(cmd string, jobs []Job) bool {
	for _, j := range jobs {
		if !slices.Contains(j.Project.Silence, cmd) {
			return false
		}
	}
	return len(jobs) > 0
}

// writeParts edits the run's existing comments and creates what is
// missing; a part no longer needed is emptied to a short note.
func (r *Runner) writeParts(ctx context.Context, run *Run, parts []string) error {
	// The parts that do not exist yet are created first and the first part,
	// which says whether the run is done, is edited last: a reader who sees
	// "done" finds every part already there.
	existing := len(run.Comments)
	for i := existing; i < len(parts); i++ {
		cm, err := r.host.CreateComment(ctx, run.Repo, run.Number, parts[i])
		if err != nil {
			return fmt.Errorf("comment on #%d: %w", run.Number, err)
		}
		run.Comments = append(run.Comments, cm.ID)
		run.CommentIDs = append(run.CommentIDs, cm.NodeID)
	}
	if len(run.Comments) > existing {
		if err := r.rec.Put(ctx, records.Runs, run.ID, run); err != nil {
			return err
		}
	}
	for i := len(parts); i < len(run.Comments); i++ {
		_ = r.host.UpdateComment(ctx, run.Repo, run.Comments[i], r.text(templates.PartUnused{ID: run.ID}))
	}
	for i := min(existing, len(parts)) - 1; i >= 0; i-- {
		if err := r.host.UpdateComment(ctx, run.Repo, run.Comments[i], parts[i]); err != nil {
			return fmt.Errorf("update comment of run %s: %w", run.ID, err)
		}
	}
	return nil
}

func (r *Runner) runJobs(ctx context.Context, run Run) ([]Job, error) {
	jobs := make([]Job, 0, len(run.JobIDs))
	for _, id := range run.JobIDs {
		var j Job
		ok, err := r.rec.Get(ctx, records.Jobs, id, &j)
		if err != nil {
			return nil, err
		}
		if ok {
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

func commandName(c string) string {
	switch c {
	case "autoplan", "plan", "queued-plan":
		return "plan"
	case "apply", "apply-after-merge", "retry-after-merge", "remediate":
		return "apply"
	}
	return c
}

// trigger is what started a run no comment asked for, as trigger.tmpl
// shows it.
func trigger(run Run) templates.Trigger {
	switch run.Command {
	case "autoplan":
		return templates.Trigger{Kind: templates.TriggerPush, Commit: run.HeadSHA}
	case "apply-after-merge":
		return templates.Trigger{Kind: templates.TriggerMerge, Number: run.Number}
	case "queued-plan":
		return templates.Trigger{Kind: templates.TriggerPlanQueue}
	}
	return templates.Trigger{}
}

// projectResult is a job as the templates show it.
func (r *Runner) projectResult(ctx context.Context, j Job) templates.ProjectResult {
	o := j.Outcome
	p := templates.ProjectResult{
		Name: j.Project.Name, Dir: j.Project.Dir, Workspace: j.Project.Workspace,
		Status:   templates.ProjectStatus(o.Status),
		PlanText: o.PlanText, DriftText: o.DriftText, ApplyOutput: o.ApplyText, NothingToApply: o.NothingToApply,
		FailedStep: o.FailedStep, Error: o.Error, LogTail: o.LogTail,
		Unmet: o.Unmet, JobURL: r.jobURL(j.ID), SummaryOnly: r.srv.SummaryOnly,
	}
	if j.Kind == JobPlan {
		p.ExtraArgs = j.ExtraArgs
		p.FreshApproval = len(gate.RiskyArgs(j.ExtraArgs)) > 0
	}
	if s := o.Summary; s != nil {
		p.Add, p.Change, p.Destroy = s.Create+s.Replace, s.Update, s.Delete+s.Replace
		p.Replace, p.Import = s.Replace, s.Import
		p.Creates, p.Updates, p.Deletes, p.Replaces, p.Imports = s.Creates, s.Updates, s.Deletes, s.Replaces, s.Imports
		for _, m := range s.Moves {
			p.Moves = append(p.Moves, templates.Move{From: m.From, To: m.To})
		}
	}
	for _, st := range o.Steps {
		p.StepOutputs = append(p.StepOutputs, templates.StepOutput{Step: r.mask(st.Step), Output: r.mask(st.Output), Cut: st.Cut})
	}
	if s := o.Summary; s != nil && p.Status == templates.StatusInterrupted && (j.Kind == JobApply || j.Kind == JobPlanApply) {
		p.Provisioned = s.Provisioned
	}
	if h := o.LockedBy; h != nil {
		p.LockedBy = &templates.LockHolder{Number: h.Number, Author: h.Author, URL: r.prURL(h.Repo, h.Number)}
	}
	for _, h := range o.Behind {
		p.Behind = append(p.Behind, templates.LockHolder{Number: h.Number, URL: r.prURL(h.Repo, h.Number)})
	}
	if len(o.Policies) > 0 {
		approvals := r.approvalsFor(ctx, j)
		for _, res := range o.Policies {
			p.Policies = append(p.Policies, policyView(res, approvals[res.Set]))
		}
	}
	return p
}

// policyView is one policy set's result as the templates show it.
func policyView(res policy.Result, approvedBy []string) templates.PolicyResult {
	v := templates.PolicyResult{Set: res.Set, Enforcement: res.Enforcement, Owners: res.Owners,
		Needed: res.Approvals, ApprovedBy: approvedBy, Error: res.Err}
	for _, m := range res.Deny {
		v.Deny = append(v.Deny, templates.PolicyMessage{Msg: m.Msg, Resource: m.Resource, More: m.More})
	}
	for _, m := range res.Warn {
		v.Warn = append(v.Warn, templates.PolicyMessage{Msg: m.Msg, Resource: m.Resource, More: m.More})
	}
	switch {
	case res.Err != "":
		v.Status = templates.PolicyError
	case len(res.Deny) > 0 && len(approvedBy) >= max(res.Approvals, 1):
		v.Status = templates.PolicyApproved
	case len(res.Deny) > 0:
		v.Status = templates.PolicyFailed
	case len(res.Warn) > 0:
		v.Status = templates.PolicyWarned
	default:
		v.Status = templates.PolicyPassed
	}
	return v
}

// prURL is a PR's page. The code host's HTML URL is not at hand for a lock
// holder, so it is derived from the API's conventions of github.com.
func (r *Runner) prURL(repo string, number int) string {
	base := strings.TrimSuffix(r.cfg.HTMLURL, "/")
	if base == "" {
		base = "https://github.com"
	}
	return fmt.Sprintf("%s/%s/pull/%d", base, repo, number)
}

// mask replaces every secret value with ***, through the one masker
// (runner/mask).
func (r *Runner) mask(s string) string {
	return r.masker.Mask(s)
}

// reply posts a one-off comment rendered from a template.
func (r *Runner) reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error {
	body, err := r.tmpl.Render(name, data)
	if err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if _, err := r.host.CreateComment(ctx, repo, number, r.mask(body)); err != nil {
		return fmt.Errorf("reply on #%d: %w", number, err)
	}
	return nil
}

// text renders a message to put into another text: a run's note, a job's
// error. A message that fails to render (a broken override cannot: New
// test-renders each), or a Runner built without templates (New requires
// them; a test may not), gives its template's name rather than nothing.
func (r *Runner) text(m templates.Message) string {
	if r.tmpl == nil {
		return m.Template()
	}
	s, err := r.tmpl.RenderMessage(m)
	if err != nil {
		r.log.Error("render", "template", m.Template(), "err", err)
		return m.Template()
	}
	return strings.TrimSpace(s)
}

// checkText is the title and summary of a job's check run before the job
// ends.
func (r *Runner) checkText(state templates.CheckState, j Job) templates.CheckOutput {
	if r.tmpl == nil {
		return templates.CheckOutput{Title: string(state)}
	}
	out, err := r.tmpl.RenderCheckProgress(templates.CheckProgress{State: state, Kind: string(j.Kind), Project: j.Project.Name})
	if err != nil {
		r.log.Error("render check progress", "err", err)
		return templates.CheckOutput{Title: string(state)}
	}
	return out
}

// say posts a message (a notice or a refusal) rendered by its own
// template.
func (r *Runner) say(ctx context.Context, repo vcs.Repo, number int, m templates.Message) error {
	return r.reply(ctx, repo, number, m.Template(), m)
}

// replyOnce posts a reply rendered from a template only once per PR and kind.
func (r *Runner) replyOnce(ctx context.Context, pr vcs.PullRequest, kind, name string, data any) error {
	first, err := r.rec.Once(ctx, pr.Repo.FullName(), pr.Number, "note#"+kind, []byte("1"))
	if err != nil {
		return err
	}
	if !first {
		return nil
	}
	return r.reply(ctx, pr.Repo, pr.Number, name, data)
}

func (r *Runner) replyConfigError(ctx context.Context, pr vcs.PullRequest, ce *configError) error {
	r.auditConfigError(ctx, pr, ce)
	return r.reply(ctx, pr.Repo, pr.Number, "config_error.tmpl", templates.ConfigError{File: ce.File, Commit: ce.Commit, Errors: ce.Errors})
}

// configNote renders the keys the repository configuration sets that atoll
// does not act on, for the note atop a plan comment; "" when none.
func (r *Runner) configNote(rc RepoConfig) string {
	if len(rc.Warnings) == 0 {
		return ""
	}
	text, err := r.tmpl.RenderConfigWarnings(templates.ConfigWarnings{File: rc.File, Warnings: rc.Warnings})
	if err != nil {
		r.log.Error("render config warnings", "file", rc.File, "err", err)
		return ""
	}
	return text
}
