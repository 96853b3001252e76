package pr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/atollhq/atoll/runner/command"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// onComment handles `atoll ...` comments. Edited comments, comments by
// bots (atoll included) and comments not addressed to atoll are ignored;
// a comment's command runs once, whatever delivery brings it (commandOnce).
func (l *Life) OnComment(ctx context.Context, e *vcs.CommentEvent) error {
	if e.Action != "created" || e.Sender.Bot || e.Comment.Author.Bot ||
		strings.EqualFold(e.Sender.Login, l.d.BotLogin()) || strings.HasSuffix(e.Sender.Login, "[bot]") {
		return nil
	}
	repo := e.Repo
	if repo.InstallationID == 0 {
		repo.InstallationID = e.InstallationID
	}
	if !l.d.Settings.RepoAllowed(repo.FullName()) {
		return nil
	}
	cmd, err := command.Parser{Aliases: l.d.Settings.CommandAliases}.Parse(e.Comment.Body)
	if cmd == nil && err == nil {
		return nil
	}
	if run, err := l.commandOnce(ctx, repo, e); err != nil || !run {
		return err
	}
	var cerr *command.Error
	if errors.As(err, &cerr) && cerr.Kind == command.Unsupported {
		return l.d.Replies.Reply(ctx, repo, e.IssueNumber, "command_unsupported.tmpl", templates.CommandUnsupported{Command: cerr.Command})
	}
	if err == nil && cmd.Name != command.Help && !l.d.Settings.CommandAllowed(cmd.Name) {
		return l.d.Replies.Reply(ctx, repo, e.IssueNumber, "command_not_allowed.tmpl",
			templates.CommandNotAllowed{Command: cmd.Name, Allowed: l.d.Settings.AllowCommands})
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
		return l.d.Replies.Reply(ctx, repo, e.IssueNumber, "command_error.tmpl", templates.CommandError{Problem: p})
	}
	user := e.Sender.Login
	if cmd.Name != "help" && cmd.Name != "version" {
		if need, err := l.Authorize(ctx, repo, user, cmd.Name); err != nil {
			return err
		} else if need != "" {
			l.d.Audit.Command(ctx, repo, e.IssueNumber, user, cmd.Name, "refused", need)
			return l.d.Replies.Reply(ctx, repo, e.IssueNumber, "permission_denied.tmpl",
				templates.PermissionDenied{User: user, Command: cmd.Name, Need: need})
		}
	}
	l.d.Audit.Command(ctx, repo, e.IssueNumber, user, cmd.Name, "accepted", "")
	if err := l.d.Host.AddReaction(ctx, repo, e.Comment.ID, "eyes"); err != nil {
		l.d.Log.Warn("add reaction", "comment", e.Comment.ID, "err", err)
	}
	if !e.IsPR {
		return l.d.Issues.OnIssueCommand(ctx, repo, e.IssueNumber, e.IssueLabels, user, cmd)
	}
	switch cmd.Name {
	case "help":
		return l.d.Replies.Reply(ctx, repo, e.IssueNumber, "help.tmpl", templates.Help{})
	case "version":
		return l.d.Replies.Reply(ctx, repo, e.IssueNumber, "version.tmpl", l.d.Version)
	}
	pr, err := l.d.Host.GetPullRequest(ctx, repo, e.IssueNumber)
	if err != nil {
		return fmt.Errorf("get PR #%d: %w", e.IssueNumber, err)
	}
	pr.Repo.InstallationID = repo.InstallationID
	if refused, err := l.forkCommandRefused(ctx, pr, e.Comment, user, cmd); refused || err != nil {
		return err
	}
	switch cmd.Name {
	case "plan":
		return l.commandPlan(ctx, pr, user, cmd)
	case "apply":
		return l.commandApply(ctx, pr, user, cmd)
	case "unlock":
		return l.commandUnlock(ctx, pr)
	case "approve_policies":
		return l.commandApprovePolicies(ctx, pr, user, cmd)
	}
	return l.d.Replies.Reply(ctx, repo, e.IssueNumber, "command_error.tmpl", templates.CommandError{Problem: templates.CommandProblem{
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

// Authorize returns what user lacks to run command cmdName on repo, in
// words, or "" when allowed; an error is the code host's.
func (l *Life) Authorize(ctx context.Context, repo vcs.Repo, user, cmdName string) (string, error) {
	need, err := Lacks(ctx, l.d.Host, l.d.Settings.Permissions, repo, user, cmdName)
	if err != nil || need == nil {
		return "", err
	}
	return l.d.Replies.Text(*need), nil
}

// commandPlan plans the PR's projects (all it touches, or those selected).
func (l *Life) commandPlan(ctx context.Context, pr vcs.PullRequest, user string, cmd *command.Command) error {
	if pr.State != "open" {
		return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.PlanClosed{})
	}
	defer l.d.Engine.LockPR(records.PRKey(pr.Repo.FullName(), pr.Number))()
	st, err := l.State(ctx, pr)
	if err != nil {
		return err
	}
	if st.HeadSHA != "" && st.HeadSHA != pr.HeadSHA {
		if err := l.Supersede(ctx, pr, st); err != nil {
			l.d.Log.Warn("supersede", "err", err)
		}
	}
	found, rc, err := l.d.Repos.Affected(ctx, pr)
	if err != nil {
		return l.configErrorReply(ctx, pr, err)
	}
	var projects []records.Project
	for _, a := range found {
		projects = append(projects, a.Project)
	}
	if cmd.Project != "" || cmd.Dir != "" || cmd.Workspace != "" {
		projects = l.selectProjects(ctx, pr, projects, cmd)
	}
	if len(projects) == 0 {
		return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.NoProjectMatches{Selected: selection(cmd)})
	}
	err = l.d.Engine.StartPlanRun(ctx, pr, "plan", user, projects, cmd.ExtraArgs, runOptions(cmd), l.d.Replies.ConfigNote(rc),
		records.HeadUpdate(pr, MergeProjects(st.Projects, projects, st.HeadSHA == pr.HeadSHA)))
	return err
}

// selectProjects applies -p, -d and -w; a selector naming a project the PR
// does not touch still plans it, when it exists in the repository. A
// workspace no project has is planned ad hoc, as Atlantis does: `-d DIR -w
// WS` plans DIR in WS, and `-w WS` alone plans every directory the pull
// request changes in WS. An ad-hoc project is named DIR:WS, so its plan,
// lock and apply stay apart from those of DIR's default workspace.
func (l *Life) selectProjects(ctx context.Context, pr vcs.PullRequest, touched []records.Project, cmd *command.Command) []records.Project {
	if sel := projects.Filter(touched, cmd.Project, cmd.Dir, cmd.Workspace); len(sel) > 0 {
		return sel
	}
	if cmd.Project == "" && cmd.Dir == "" && cmd.Workspace != "" {
		return adHoc(touched, cmd.Workspace)
	}
	rc, err := l.d.Repos.RepoConfig(ctx, pr.Repo, pr.HeadSHA, pr.BaseRef)
	if err != nil {
		return nil
	}
	all, err := l.d.Repos.All(ctx, pr.Repo, pr.HeadSHA, rc)
	if err != nil {
		return nil
	}
	sel := projects.Filter(all, cmd.Project, cmd.Dir, cmd.Workspace)
	if len(sel) == 0 && cmd.Dir != "" && cmd.Project == "" {
		ws := cmd.Workspace
		if ws == "" {
			ws = discovery.DefaultWorkspace
		}
		base := projects.Filter(all, "", cmd.Dir, "")
		if len(base) == 0 {
			base = []records.Project{{ProjectCore: config.ProjectCore{Dir: cmd.Dir}}}
		}
		sel = adHoc(base[:1], ws)
	}
	return sel
}

// adHoc are the projects of the distinct dirs of base, in workspace ws,
// each named DIR:WS (DIR for the default workspace) and keeping the
// settings (terraform version, var files, requirements) of its dir's
// first project.
func adHoc(base []records.Project, ws string) []records.Project {
	seen := map[string]bool{}
	var out []records.Project
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

// MergeProjects adds planned projects add to those a PR already had, old:
// only add when the head moved (sameHead false), else both, without
// repeats, in order.
func MergeProjects(old, add []records.Project, sameHead bool) []records.Project {
	if !sameHead {
		return add
	}
	seen := map[string]bool{}
	var out []records.Project
	for _, p := range append(append([]records.Project{}, old...), add...) {
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
func (l *Life) commandUnlock(ctx context.Context, pr vcs.PullRequest) error {
	defer l.d.Engine.LockPR(records.PRKey(pr.Repo.FullName(), pr.Number))()
	released, err := l.ReleasePR(ctx, pr.Repo.FullName(), pr.Number)
	if err != nil {
		return err
	}
	l.d.Audit.Released(ctx, pr.Repo.FullName(), pr.Number, released, "atoll unlock")
	if len(released) == 0 {
		return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.NoLocks{})
	}
	return l.d.Replies.Say(ctx, pr.Repo, pr.Number, templates.Unlocked{Projects: released})
}
