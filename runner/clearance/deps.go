package clearance

import (
	"context"
	"log/slog"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/codeowners"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Pulls is what the gathering reads of a pull request: the PR again
// (while GitHub computes its mergeability), its reviews, its head's check
// runs and its changed files.
type Pulls interface {
	GetPullRequest(ctx context.Context, repo vcs.Repo, number int) (vcs.PullRequest, error)
	ListReviews(ctx context.Context, repo vcs.Repo, number int) ([]vcs.Review, error)
	ListCheckRuns(ctx context.Context, repo vcs.Repo, ref string) ([]vcs.CheckRun, error)
	facts.FileLister
}

// Repos is what the gathering reads of a repository: a branch's head and
// required checks, a user's permission, team membership and CODEOWNERS.
type Repos interface {
	BranchSHA(ctx context.Context, repo vcs.Repo, branch string) (string, error)
	RequiredStatusChecks(ctx context.Context, repo vcs.Repo, branch string) ([]string, error)
	UserPermission(ctx context.Context, repo vcs.Repo, user string) (vcs.Permission, error)
	facts.TeamAsker
	codeowners.Reader
}

// Checks writes a check run (of the policies' verdict).
type Checks interface {
	CreateCheckRun(ctx context.Context, repo vcs.Repo, run vcs.CheckRun) (vcs.CheckRun, error)
}

// Host is the code host as the gathering reads it, and where the
// policies' check run is written.
type Host interface {
	Pulls
	Repos
	Checks
}

// Git answers from the repository's mirror: whether the PR contains its
// base's head, and the files two commits differ in.
type Git interface {
	IsAncestor(ctx context.Context, repo vcs.Repo, ancestor, descendant string) (bool, error)
	facts.Differ
}

// Loader reads a repository's configuration and fetches a pull request
// (projects.Loader).
type Loader interface {
	// RepoConfig is the repository's atoll.yaml at commit ref, checked
	// against the server's rules for base branch base.
	RepoConfig(ctx context.Context, repo vcs.Repo, ref, base string) (projects.RepoConfig, error)
	// FetchPR fetches the PR's base and head into the mirror.
	FetchPR(ctx context.Context, pr vcs.PullRequest) error
}

// Engine is what the gathering asks of the services built after it (the
// job bodies, the pull requests' commands), through the engine.
type Engine interface {
	// BaseRefOf is the base branch of job's pull request, or the default
	// branch; "" when unknown.
	BaseRefOf(ctx context.Context, job records.Job) string
	// PlanSHA256 is the digest of plan's stored plan file.
	PlanSHA256(ctx context.Context, plan records.Plan) (string, error)
	// Authorize is what user lacks to run command in repo; "" when
	// nothing.
	Authorize(ctx context.Context, repo vcs.Repo, user, command string) (string, error)
}

// Trail records whether an approving review counts (trail.Trail).
type Trail interface {
	// Review records whether user's approving review (with permission
	// perm) counts.
	Review(ctx context.Context, pr vcs.PullRequest, user string, perm vcs.Permission)
}

// View answers on a pull request and masks secrets (view.View).
type View interface {
	// Reply comments on issue or PR number with template name.
	Reply(ctx context.Context, repo vcs.Repo, number int, name string, data any) error
	// Mask hides the secrets in s.
	Mask(s string) string
}

// Renderer renders a template by name, and a check run's text.
type Renderer interface {
	Render(name string, data any) (string, error)
	RenderCheckSummary(c templates.CheckSummary) (templates.CheckOutput, error)
}

// PolicySets lists the server's policy sets.
type PolicySets interface {
	Sets() []policy.SetConfig
}

// Deps are what a Gatherer reads from.
type Deps struct {
	// Server is the server configuration; DefaultRequirements its
	// apply_requirements by name.
	Server              config.Server
	DefaultRequirements []string
	Host                Host
	Git                 Git
	Loader              Loader
	Engine              Engine
	Trail               Trail
	View                View
	// JobURL is the address of job id's page.
	JobURL    func(id string) string
	Records   records.Records
	Templates Renderer
	// Policies may be nil: no policy sets.
	Policies PolicySets
	Log      *slog.Logger
}

// Gatherer gathers a decision's facts and asks the gate.
type Gatherer struct{ d Deps }

// New returns a Gatherer over d.
func New(d Deps) *Gatherer {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Gatherer{d: d}
}
