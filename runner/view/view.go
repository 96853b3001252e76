package view

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/mask"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Comments is the part of the code host a View writes: a pull request's
// comments.
type Comments interface {
	CreateComment(ctx context.Context, repo vcs.Repo, number int, body string) (vcs.Comment, error)
	UpdateComment(ctx context.Context, repo vcs.Repo, id int64, body string) error
}

// Facts is what a View asks of the runner about a job it shows.
type Facts interface {
	// JobURL is the page of job jobID, "" when the server has none.
	JobURL(jobID string) string
	// ApprovalsFor is the recorded approvers of j's policy sets, by set.
	ApprovalsFor(ctx context.Context, j records.Job) map[string][]string
}

// Options are the server settings that change what a View shows.
type Options struct {
	// QuietPolicyChecks leaves out the policy sets that passed without
	// a warning (quiet_policy_checks).
	QuietPolicyChecks bool
	// SummaryOnly shows a plan's summary without its text.
	SummaryOnly bool
	// Unsandboxed says the jobs run without a sandbox.
	Unsandboxed bool
	// HTMLURL is the code host's web address; "": github.com.
	HTMLURL string
}

// View renders and posts. Records, Comments and Facts are required;
// Templates nil renders each message as its template's name (a test's
// runner may have none); Masker nil masks nothing; Log nil: slog's
// default.
type View struct {
	Records   records.Records
	Comments  Comments
	Checks    Checks
	Facts     Facts
	Templates *templates.Renderer
	Masker    *mask.Masker
	Options   Options
	Log       *slog.Logger
}

func (v *View) log() *slog.Logger {
	if v.Log == nil {
		return slog.Default()
	}
	return v.Log
}

// RenderRun renders run runID's comment from its jobs and creates or
// edits it in place, in as many parts as GitHub's size limit needs. The
// caller makes sure one RenderRun of a run runs at a time.
func (v *View) RenderRun(ctx context.Context, runID string) error {
	var run records.Run
	if ok, err := v.Records.Get(ctx, records.Runs, runID, &run); err != nil || !ok {
		return fmt.Errorf("load run %s: %v", runID, err)
	}
	jobs, err := RunJobs(ctx, v.Records, run)
	if err != nil {
		return err
	}
	if silenced(CommandName(run.Command), jobs) && len(run.Comments) == 0 {
		return nil
	}
	c := templates.CommandComment{
		ID: run.ID, Command: CommandName(run.Command), User: run.User, HeadSHA: run.HeadSHA,
		Status: templates.RunDone, Message: run.Message, Unsandboxed: v.Options.Unsandboxed,
	}
	if run.User == "" {
		c.Trigger = Trigger(run)
	}
	for _, j := range jobs {
		if !j.State.Final() {
			c.Status = templates.RunRunning
		}
		p := v.ProjectResult(ctx, j)
		if v.Options.QuietPolicyChecks {
			p.Policies = QuietPolicies(p.Policies)
		}
		if run.Options.Verbose && j.State.Final() {
			p.Log = logTail(j.LogPath, verboseLines)
		}
		c.Projects = append(c.Projects, p)
	}
	body, err := v.Templates.RenderCommandComment(c)
	if err != nil {
		return fmt.Errorf("render run %s: %w", runID, err)
	}
	return v.writeParts(ctx, &run, templates.Split(v.Mask(body), templates.CommentLimit))
}

// silenced reports whether every job's project silences cmd's pull
// request comment (silence_pr_comments); false for a run without jobs.
func silenced(cmd string, jobs []records.Job) bool {
	for _, j := range jobs {
		if !slices.Contains(j.Project.Silence, cmd) {
			return false
		}
	}
	return len(jobs) > 0
}

// writeParts edits the run's existing comments and creates what is
// missing; a part no longer needed is emptied to a short note.
func (v *View) writeParts(ctx context.Context, run *records.Run, parts []string) error {
	// The parts that do not exist yet are created first and the first part,
	// which says whether the run is done, is edited last: a reader who sees
	// "done" finds every part already there.
	existing := len(run.Comments)
	for i := existing; i < len(parts); i++ {
		cm, err := v.Comments.CreateComment(ctx, run.Repo, run.Number, parts[i])
		if err != nil {
			return fmt.Errorf("comment on #%d: %w", run.Number, err)
		}
		run.Comments = append(run.Comments, cm.ID)
		run.CommentIDs = append(run.CommentIDs, cm.NodeID)
	}
	if len(run.Comments) > existing {
		if err := v.Records.Put(ctx, records.Runs, run.ID, run); err != nil {
			return err
		}
	}
	for i := len(parts); i < len(run.Comments); i++ {
		_ = v.Comments.UpdateComment(ctx, run.Repo, run.Comments[i], v.Text(templates.PartUnused{ID: run.ID}))
	}
	for i := min(existing, len(parts)) - 1; i >= 0; i-- {
		if err := v.Comments.UpdateComment(ctx, run.Repo, run.Comments[i], parts[i]); err != nil {
			return fmt.Errorf("update comment of run %s: %w", run.ID, err)
		}
	}
	return nil
}

// RunJobs are run's jobs as stored, in the run's order; a job no longer
// stored is left out.
func RunJobs(ctx context.Context, rec records.Records, run records.Run) ([]records.Job, error) {
	jobs := make([]records.Job, 0, len(run.JobIDs))
	for _, id := range run.JobIDs {
		var j records.Job
		ok, err := rec.Get(ctx, records.Jobs, id, &j)
		if err != nil {
			return nil, err
		}
		if ok {
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

// CommandName is the command a run's comment names for the run's
// command: "plan" for an autoplan or a queued plan, "apply" for the
// applies after a merge and a remediation, else c.
func CommandName(c string) string {
	switch c {
	case "autoplan", "plan", "queued-plan":
		return "plan"
	case "apply", "apply-after-merge", "retry-after-merge", "remediate":
		return "apply"
	}
	return c
}

// Trigger is what started a run no comment asked for, as trigger.tmpl
// shows it.
func Trigger(run records.Run) templates.Trigger {
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

// ProjectResult is a job as the templates show it.
func (v *View) ProjectResult(ctx context.Context, j records.Job) templates.ProjectResult {
	o := j.Outcome
	p := templates.ProjectResult{
		Name: j.Project.Name, Dir: j.Project.Dir, Workspace: j.Project.Workspace,
		Status:   templates.ProjectStatus(o.Status),
		PlanText: o.PlanText, DriftText: o.DriftText, ApplyOutput: o.ApplyText, NothingToApply: o.NothingToApply,
		FailedStep: o.FailedStep, Error: o.Error, LogTail: o.LogTail,
		Unmet: o.Unmet, JobURL: v.Facts.JobURL(j.ID), SummaryOnly: v.Options.SummaryOnly,
	}
	if j.Kind == records.JobPlan {
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
		p.StepOutputs = append(p.StepOutputs, templates.StepOutput{Step: v.Mask(st.Step), Output: v.Mask(st.Output), Cut: st.Cut})
	}
	if s := o.Summary; s != nil && p.Status == templates.StatusInterrupted && (j.Kind == records.JobApply || j.Kind == records.JobPlanApply) {
		p.Provisioned = s.Provisioned
	}
	if h := o.LockedBy; h != nil {
		p.LockedBy = &templates.LockHolder{Number: h.Number, Author: h.Author, URL: v.PRURL(h.Repo, h.Number)}
	}
	for _, h := range o.Behind {
		p.Behind = append(p.Behind, templates.LockHolder{Number: h.Number, URL: v.PRURL(h.Repo, h.Number)})
	}
	if len(o.Policies) > 0 {
		approvals := v.Facts.ApprovalsFor(ctx, j)
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

// PRURL is a PR's page. The code host's HTML URL is not at hand for a
// lock holder, so it is derived from the API's conventions of github.com.
func (v *View) PRURL(repo string, number int) string {
	base := strings.TrimSuffix(v.Options.HTMLURL, "/")
	if base == "" {
		base = "https://github.com"
	}
	return fmt.Sprintf("%s/%s/pull/%d", base, repo, number)
}

// Mask replaces every secret value in s with ***, through the one
// masker (runner/mask).
func (v *View) Mask(s string) string {
	return v.Masker.Mask(s)
}

// Reply posts a one-off comment on pull request (or issue) number,
// rendered from template name with data, masked.
func (v *View) Reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error {
	return PostTemplate(ctx, v.Comments, v.Templates, v.Mask, repo, number, name, data)
}

// Commenter is the part of the code host that posts a comment.
type Commenter interface {
	CreateComment(ctx context.Context, repo vcs.Repo, number int, body string) (vcs.Comment, error)
}

// TemplateRenderer renders template name with data (templates.Renderer
// is one).
type TemplateRenderer interface {
	Render(name string, data any) (string, error)
}

// PostTemplate posts template name, rendered with data and masked by mask,
// as a comment on pull request (or issue) number. The error says which
// step failed: "render NAME: ..." or "reply on #N: ...".
func PostTemplate(ctx context.Context, host Commenter, r TemplateRenderer, mask func(string) string, repo vcs.Repo,
	number int, name string, data any) error {
	body, err := r.Render(name, data)
	if err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if _, err := host.CreateComment(ctx, repo, number, mask(body)); err != nil {
		return fmt.Errorf("reply on #%d: %w", number, err)
	}
	return nil
}

// Text renders a message to put into another text: a run's note, a job's
// error. A message that fails to render (a broken override cannot: the
// runner test-renders each), or a View without templates, gives its
// template's name rather than nothing.
func (v *View) Text(m templates.Message) string {
	if v.Templates == nil {
		return m.Template()
	}
	s, err := v.Templates.RenderMessage(m)
	if err != nil {
		v.log().Error("render", "template", m.Template(), "err", err)
		return m.Template()
	}
	return strings.TrimSpace(s)
}

// CheckText is the title and summary of a job's check run before the
// job ends.
func (v *View) CheckText(state templates.CheckState, j records.Job) templates.CheckOutput {
	if v.Templates == nil {
		return templates.CheckOutput{Title: string(state)}
	}
	out, err := v.Templates.RenderCheckProgress(templates.CheckProgress{State: state, Kind: string(j.Kind), Project: j.Project.Name})
	if err != nil {
		v.log().Error("render check progress", "err", err)
		return templates.CheckOutput{Title: string(state)}
	}
	return out
}

// Say posts a message (a notice or a refusal) rendered by its own
// template.
func (v *View) Say(ctx context.Context, repo vcs.Repo, number int, m templates.Message) error {
	return v.Reply(ctx, repo, number, m.Template(), m)
}

// ReplyOnce posts a reply rendered from template name only once per
// pull request and kind, however often it is asked to.
func (v *View) ReplyOnce(ctx context.Context, pr vcs.PullRequest, kind, name string, data any) error {
	first, err := v.Records.Once(ctx, pr.Repo.FullName(), pr.Number, "note#"+kind, []byte("1"))
	if err != nil {
		return err
	}
	if !first {
		return nil
	}
	return v.Reply(ctx, pr.Repo, pr.Number, name, data)
}

// ReplyConfigError tells pull request pr what is wrong with its
// repository configuration, every problem where it is.
func (v *View) ReplyConfigError(ctx context.Context, pr vcs.PullRequest, ce *projects.ConfigError) error {
	return v.Reply(ctx, pr.Repo, pr.Number, "config_error.tmpl", templates.ConfigError{File: ce.File, Commit: ce.Commit, Errors: ce.Errors})
}

// ConfigNote renders the keys the repository configuration sets that
// atoll does not act on, for the note atop a plan comment; "" when none.
func (v *View) ConfigNote(rc projects.RepoConfig) string {
	if len(rc.Warnings) == 0 {
		return ""
	}
	text, err := v.Templates.RenderConfigWarnings(templates.ConfigWarnings{File: rc.File, Warnings: rc.Warnings})
	if err != nil {
		v.log().Error("render config warnings", "file", rc.File, "err", err)
		return ""
	}
	return text
}
