package runner

import (
	"context"

	"github.com/atollhq/atoll/vcs"
)

// Host is what the runner needs of the code host, as the sum of the
// groups below, each what one kind of work asks. vcs/github's *Client
// implements it; tests use the same client against the emulator. A part
// of the runner that needs less declares less (see runner/facts).
type Host interface {
	Installations
	Repos
	Pulls
	Comments
	Checks
	Issues
}

// Installations lists what the App serves: its slug, its installations
// and their repositories (reconciliation, drift scheduling, the API).
type Installations interface {
	AppSlug(ctx context.Context) (string, error)
	ListInstallations(ctx context.Context) ([]int64, error)
	ListInstallationRepos(ctx context.Context, installationID int64) ([]vcs.Repo, error)
}

// Repos reads a repository: its facts, a branch head and its required
// checks, a file at a ref, and who may do what in it.
type Repos interface {
	GetRepo(ctx context.Context, repo vcs.Repo) (vcs.Repo, error)
	BranchSHA(ctx context.Context, repo vcs.Repo, branch string) (string, error)
	RequiredStatusChecks(ctx context.Context, repo vcs.Repo, branch string) ([]string, error)
	ReadFile(ctx context.Context, repo vcs.Repo, ref, path string) ([]byte, error)
	UserPermission(ctx context.Context, repo vcs.Repo, user string) (vcs.Permission, error)
	IsTeamMember(ctx context.Context, repo vcs.Repo, org, teamSlug, user string) (bool, error)
}

// Pulls reads and acts on pull requests: the PR, its files and reviews,
// merging it, its branch and labels.
type Pulls interface {
	GetPullRequest(ctx context.Context, repo vcs.Repo, number int) (vcs.PullRequest, error)
	ListOpenPullRequests(ctx context.Context, repo vcs.Repo) ([]vcs.PullRequest, error)
	ListPullRequestFiles(ctx context.Context, repo vcs.Repo, number int) ([]string, bool, error)
	ListReviews(ctx context.Context, repo vcs.Repo, number int) ([]vcs.Review, error)
	MergePullRequest(ctx context.Context, repo vcs.Repo, number int, method, sha string) (string, error)
	// DeleteBranch deletes a branch; one already gone is not an error.
	DeleteBranch(ctx context.Context, repo vcs.Repo, branch string) error
	SetLabels(ctx context.Context, repo vcs.Repo, number int, add, remove []string) error
}

// Comments writes on pull requests and issues: comments edited in place,
// minimized when superseded, and reactions.
type Comments interface {
	CreateComment(ctx context.Context, repo vcs.Repo, number int, body string) (vcs.Comment, error)
	UpdateComment(ctx context.Context, repo vcs.Repo, id int64, body string) error
	MinimizeComment(ctx context.Context, repo vcs.Repo, nodeID, classifier string) error
	AddReaction(ctx context.Context, repo vcs.Repo, commentID int64, content string) error
}

// Checks opens, updates and lists check runs.
type Checks interface {
	CreateCheckRun(ctx context.Context, repo vcs.Repo, run vcs.CheckRun) (vcs.CheckRun, error)
	UpdateCheckRun(ctx context.Context, repo vcs.Repo, run vcs.CheckRun) error
	ListCheckRuns(ctx context.Context, repo vcs.Repo, ref string) ([]vcs.CheckRun, error)
}

// Issues opens, updates and lists issues (drift issues).
type Issues interface {
	CreateIssue(ctx context.Context, repo vcs.Repo, issue vcs.Issue) (vcs.Issue, error)
	UpdateIssue(ctx context.Context, repo vcs.Repo, number int, u vcs.IssueUpdate) error
	ListIssues(ctx context.Context, repo vcs.Repo, label, state string) ([]vcs.Issue, error)
}

// Git is the checkout the runner needs: one mirror per repo, a worktree
// per job. vcs/git's *Mirrors implements it.
type Git interface {
	Fetch(ctx context.Context, repo vcs.Repo, refspecs ...string) error
	Worktree(ctx context.Context, repo vcs.Repo, sha, dest string) error
	MergeWorktree(ctx context.Context, repo vcs.Repo, baseSHA, headSHA, dest string) (string, error)
	RemoveWorktree(ctx context.Context, repo vcs.Repo, dest string) error
	ChangedFiles(ctx context.Context, repo vcs.Repo, base, head string) ([]string, error)
	IsAncestor(ctx context.Context, repo vcs.Repo, ancestor, descendant string) (bool, error)
}
