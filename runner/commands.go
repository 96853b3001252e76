package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// onComment handles `atoll ...` comments. Edited comments, comments by
// bots (atoll included) and comments not addressed to atoll are ignored;
// a comment's command runs once, whatever delivery brings it (commandOnce).
func (r *Runner) onComment(ctx context.Context, e *vcs.CommentEvent) error {
	if e.Action != "created" || e.Sender.Bot || e.Comment.Author.Bot ||
		strings.EqualFold(e.Sender.Login, r.botLogin) || strings.HasSuffix(e.Sender.Login, "[bot]") {
		return nil
	}
	repo := e.Repo
	if repo.InstallationID == 0 {
		repo.InstallationID = e.InstallationID
	}
	if !r.srv.RepoAllowed(repo.FullName()) {
		return nil
	}
	cmd, err := command.Parser{Aliases: r.srv.CommandAliases}.Parse(e.Comment.Body)
	if cmd == nil && err == nil {
		return nil
	}
	if run, err := r.commandOnce(ctx, repo, e); err != nil || !run {
		return err
	}
	var cerr *command.Error
	if errors.As(err, &cerr) && cerr.Kind == command.Unsupported {
		return r.reply(ctx, repo, e.IssueNumber, "command_unsupported.tmpl", templates.CommandUnsupported{Command: cerr.Command})
	}
	if err == nil && cmd.Name != command.Help && !r.srv.CommandAllowed(cmd.Name) {
		return r.reply(ctx, repo, e.IssueNumber, "command_not_allowed.tmpl",
			templates.CommandNotAllowed{Command: cmd.Name, Allowed: r.srv.AllowCommands})
	}
	if err == nil && len(cmd.ExtraArgs) > 0 {
		// Refused before anything runs: no lock taken, no plan discarded.
		if verr := terraform.ValidateExtraArgs(cmd.ExtraArgs); verr != nil {
			err = verr
		}
	}
	if err != nil {
		p, ok := problem(err)
		if !ok {
			return err
		}
		return r.reply(ctx, repo, e.IssueNumber, "command_error.tmpl", templates.CommandError{Problem: p})
	}
	user := e.Sender.Login
	if cmd.Name != "help" && cmd.Name != "version" {
		if need, err := r.authorize(ctx, repo, user, cmd.Name); err != nil {
			return err
		} else if need != "" {
			r.auditCommand(ctx, repo, e.IssueNumber, user, cmd.Name, "refused", need)
			return r.reply(ctx, repo, e.IssueNumber, "permission_denied.tmpl",
				templates.PermissionDenied{User: user, Command: cmd.Name, Need: need})
		}
	}
	r.auditCommand(ctx, repo, e.IssueNumber, user, cmd.Name, "accepted", "")
	if err := r.host.AddReaction(ctx, repo, e.Comment.ID, "eyes"); err != nil {
		r.log.Warn("add reaction", "comment", e.Comment.ID, "err", err)
	}
	if !e.IsPR {
		return r.onIssueCommand(ctx, repo, e.IssueNumber, e.IssueLabels, user, cmd)
	}
	switch cmd.Name {
	case "help":
		return r.reply(ctx, repo, e.IssueNumber, "help.tmpl", templates.Help{})
	case "version":
		return r.reply(ctx, repo, e.IssueNumber, "version.tmpl", r.versionData())
	}
	pr, err := r.host.GetPullRequest(ctx, repo, e.IssueNumber)
	if err != nil {
		return fmt.Errorf("get PR #%d: %w", e.IssueNumber, err)
	}
	pr.Repo.InstallationID = repo.InstallationID
	if refused, err := r.forkCommandRefused(ctx, pr, e.Comment, user, cmd); refused || err != nil {
		return err
	}
	switch cmd.Name {
	case "plan":
		return r.commandPlan(ctx, pr, user, cmd)
	case "apply":
		return r.commandApply(ctx, pr, user, cmd)
	case "unlock":
		return r.commandUnlock(ctx, pr)
	case "approve_policies":
		return r.commandApprovePolicies(ctx, pr, user, cmd)
	}
	return r.reply(ctx, repo, e.IssueNumber, "command_error.tmpl", templates.CommandError{Problem: templates.CommandProblem{
		Kind: string(command.UnknownCommand), Word: cmd.Name, Choices: []string{"plan", "apply", "unlock", "approve_policies"}}})
}

// problem is the parser's error as the templates' CommandProblem (the
// parser returns only *command.Error).
func problem(err error) (templates.CommandProblem, bool) {
	var e *command.Error
	if errors.As(err, &e) {
		return templates.CommandProblem{Kind: string(e.Kind), Command: e.Command, Word: e.Word, Flag: e.Flag,
			Value: e.Value, Usage: e.Usage, Choices: e.Choices}, true
	}
	var ae *terraform.ArgError
	if errors.As(err, &ae) {
		p := templates.CommandProblem{Kind: "extra_arg_" + string(ae.Problem), Command: command.Plan,
			Flag: "-" + ae.Arg, Choices: ae.Allowed}
		if ae.Problem == terraform.ArgNotFlag {
			p.Flag, p.Word = "", ae.Arg
		}
		return p, true
	}
	return templates.CommandProblem{}, false
}

// authorize returns what user lacks to run command, or "" when allowed.
func (r *Runner) authorize(ctx context.Context, repo vcs.Repo, user, cmdName string) (string, error) {
	need, err := pr.Lacks(ctx, r.host, r.srv.Permissions, repo, user, cmdName)
	if err != nil || need == nil {
		return "", err
	}
	return r.text(*need), nil
}

// commandPlan plans the PR's projects (all it touches, or those selected).
func (r *Runner) commandPlan(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command) error {
	if pr.State != "open" {
		return r.say(ctx, pr.Repo, pr.Number, templates.PlanClosed{})
	}
	defer r.prMu.lock(records.PRKey(pr.Repo.FullName(), pr.Number))()
	st, err := r.prState(ctx, pr)
	if err != nil {
		return err
	}
	if st.HeadSHA != "" && st.HeadSHA != pr.HeadSHA {
		if err := r.supersede(ctx, pr, st); err != nil {
			r.log.Warn("supersede", "err", err)
		}
	}
	found, rc, err := r.affectedProjects(ctx, pr)
	if err != nil {
		if ce, ok := err.(*configError); ok {
			return r.replyConfigError(ctx, pr, ce)
		}
		return err
	}
	var projects []Project
	for _, a := range found {
		projects = append(projects, a.Project)
	}
	if cmd.Project != "" || cmd.Dir != "" || cmd.Workspace != "" {
		projects = r.selectProjects(ctx, pr, projects, cmd)
	}
	if len(projects) == 0 {
		return r.say(ctx, pr.Repo, pr.Number, templates.NoProjectMatches{Selected: selection(cmd)})
	}
	_, err = r.startPlanRun(ctx, pr, "plan", user, projects, cmd.ExtraArgs, runOptions(cmd), r.configNote(rc),
		records.HeadUpdate(pr, mergeProjects(st.Projects, projects, st.HeadSHA == pr.HeadSHA)))
	return err
}

// selectProjects applies -p, -d and -w; a selector naming a project the PR
// does not touch still plans it, when it exists in the repository. A
// workspace no project has is planned ad hoc, as Atlantis does: `-d DIR -w
// WS` plans DIR in WS, and `-w WS` alone plans every directory the pull
// request changes in WS. An ad-hoc project is named DIR:WS, so its plan,
// lock and apply stay apart from those of DIR's default workspace.
func (r *Runner) selectProjects(ctx context.Context, pr vcs.PullRequest, touched []Project, cmd *command.Command) []Project {
	if sel := filterProjects(touched, cmd.Project, cmd.Dir, cmd.Workspace); len(sel) > 0 {
		return sel
	}
	if cmd.Project == "" && cmd.Dir == "" && cmd.Workspace != "" {
		return adHoc(touched, cmd.Workspace)
	}
	rc, err := r.repoConfig(ctx, pr.Repo, pr.HeadSHA, pr.BaseRef)
	if err != nil {
		return nil
	}
	all, err := r.allProjects(ctx, pr.Repo, pr.HeadSHA, rc)
	if err != nil {
		return nil
	}
	sel := filterProjects(all, cmd.Project, cmd.Dir, cmd.Workspace)
	if len(sel) == 0 && cmd.Dir != "" && cmd.Project == "" {
		ws := cmd.Workspace
		if ws == "" {
			ws = discovery.DefaultWorkspace
		}
		base := filterProjects(all, "", cmd.Dir, "")
		if len(base) == 0 {
			base = []Project{{Dir: cmd.Dir}}
		}
		sel = adHoc(base[:1], ws)
	}
	return sel
}

// adHoc are the projects of the distinct dirs of base, in workspace ws,
// each named DIR:WS (DIR for the default workspace) and keeping the
// settings (terraform version, var files, requirements) of its dir's
// first project.
func adHoc(base []Project, ws string) []Project {
	seen := map[string]bool{}
	var out []Project
	for _, p := range base {
		if seen[p.Dir] {
			continue
		}
		seen[p.Dir] = true
		p.Workspace, p.Name = ws, discovery.DefaultName(p.Dir, ws)
		out = append(out, p)
	}
	return out
}

// mergeProjects adds planned projects to those the PR already had.
func mergeProjects(old, add []Project, sameHead bool) []Project {
	if !sameHead {
		return add
	}
	seen := map[string]bool{}
	var out []Project
	for _, p := range append(append([]Project{}, old...), add...) {
		if !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, p)
		}
	}
	return out
}

func selection(cmd *command.Command) templates.Selector {
	return templates.Selector{Project: cmd.Project, Dir: cmd.Dir, Workspace: cmd.Workspace}
}

// commandUnlock releases the PR's locks and discards its plans.
func (r *Runner) commandUnlock(ctx context.Context, pr vcs.PullRequest) error {
	defer r.prMu.lock(records.PRKey(pr.Repo.FullName(), pr.Number))()
	released, err := r.releasePR(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	r.auditReleased(ctx, pr.Repo.FullName(), pr.Number, released, "atoll unlock")
	if len(released) == 0 {
		return r.say(ctx, pr.Repo, pr.Number, templates.NoLocks{})
	}
	return r.say(ctx, pr.Repo, pr.Number, templates.Unlocked{Projects: released})
}

func (r *Runner) versionData() templates.Version {
	return templates.Version{Version: r.cfg.Version, Commit: r.cfg.Commit, GoVersion: goVersion()}
}
