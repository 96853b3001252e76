package clearance_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/clearance"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// host is a code host as a test writes it: a pull request's reviews and
// changed files, users' permissions, teams, and files at the base.
type host struct {
	reviews []vcs.Review
	files   []string
	perms   map[string]vcs.Permission // user -> permission; none: read
	teams   map[string][]string       // "org/slug" -> members
	atBase  map[string]string         // path -> content, at baseSHA
	read    []string                  // the refs files were read at
	checks  []vcs.CheckRun            // the check runs written
}

func (h *host) GetPullRequest(_ context.Context, _ vcs.Repo, n int) (vcs.PullRequest, error) {
	return vcs.PullRequest{Number: n}, nil
}
func (h *host) ListReviews(context.Context, vcs.Repo, int) ([]vcs.Review, error) {
	return h.reviews, nil
}
func (h *host) ListCheckRuns(context.Context, vcs.Repo, string) ([]vcs.CheckRun, error) {
	return nil, nil
}
func (h *host) ListPullRequestFiles(context.Context, vcs.Repo, int) ([]string, bool, error) {
	return h.files, true, nil
}
func (h *host) BranchSHA(context.Context, vcs.Repo, string) (string, error) { return baseSHA, nil }
func (h *host) RequiredStatusChecks(context.Context, vcs.Repo, string) ([]string, error) {
	return nil, nil
}
func (h *host) UserPermission(_ context.Context, _ vcs.Repo, user string) (vcs.Permission, error) {
	if p, ok := h.perms[user]; ok {
		return p, nil
	}
	return vcs.PermissionRead, nil
}
func (h *host) IsTeamMember(_ context.Context, _ vcs.Repo, org, slug, user string) (bool, error) {
	return slices.Contains(h.teams[org+"/"+slug], user), nil
}
func (h *host) ReadFile(_ context.Context, _ vcs.Repo, ref, path string) ([]byte, error) {
	h.read = append(h.read, ref)
	if ref != baseSHA {
		return nil, vcs.ErrNotFound
	}
	s, ok := h.atBase[path]
	if !ok {
		return nil, vcs.ErrNotFound
	}
	return []byte(s), nil
}

func (h *host) CreateCheckRun(_ context.Context, _ vcs.Repo, run vcs.CheckRun) (vcs.CheckRun, error) {
	h.checks = append(h.checks, run)
	return run, nil
}

// git says the PR contains its base's head.
type git struct{}

func (git) IsAncestor(context.Context, vcs.Repo, string, string) (bool, error) { return true, nil }
func (git) ChangedFiles(context.Context, vcs.Repo, string, string) ([]string, error) {
	return nil, nil
}

// engine is the engine as the gathering asks it: who may approve
// policies is who has write permission on host; audited reviews are
// kept.
type engine struct {
	h       *host
	rc      projects.RepoConfig
	audited []string
	replies []any
}

func (e *engine) RepoConfig(context.Context, vcs.Repo, string, string) (projects.RepoConfig, error) {
	return e.rc, nil
}
func (e *engine) BaseRefOf(context.Context, records.Job) string  { return "main" }
func (e *engine) FetchPR(context.Context, vcs.PullRequest) error { return nil }
func (e *engine) Review(_ context.Context, _ vcs.PullRequest, user string, perm vcs.Permission) {
	e.audited = append(e.audited, user+":"+string(perm))
}
func (e *engine) PlanSHA256(_ context.Context, p records.Plan) (string, error) { return p.SHA256, nil }
func (e *engine) Authorize(ctx context.Context, repo vcs.Repo, user, _ string) (string, error) {
	if p, _ := e.h.UserPermission(ctx, repo, user); !p.AtLeast(vcs.PermissionWrite) {
		return "write", nil
	}
	return "", nil
}
func (e *engine) Reply(_ context.Context, _ vcs.Repo, _ int, _ string, data any) error {
	e.replies = append(e.replies, data)
	return nil
}
func (e *engine) Mask(s string) string    { return strings.ReplaceAll(s, "s3cr3t", "***") }
func (e *engine) JobURL(id string) string { return "https://atoll.example/jobs/" + id }

// sets are the server's policy sets.
type sets []policy.SetConfig

func (s sets) Sets() []policy.SetConfig { return s }

const (
	baseSHA = "b000000000000000000000000000000000000000"
	headSHA = "h000000000000000000000000000000000000000"
)

var repo = vcs.Repo{Owner: "acme", Name: "infra"}

// openPR is an open, mergeable pull request by author at headSHA.
func openPR(author string) vcs.PullRequest {
	yes := true
	return vcs.PullRequest{Repo: repo, Number: 7, Author: author, HeadSHA: headSHA, BaseSHA: baseSHA, BaseRef: "main",
		Mergeable: &yes, MergeableState: "clean"}
}

// newGatherer is a Gatherer over h with server configuration srv and
// policy sets ps, its records in a real store in a temp dir.
func newGatherer(t *testing.T, srv config.Server, h *host, rc projects.RepoConfig, ps sets) (*clearance.Gatherer, *engine, records.Records) {
	t.Helper()
	db, err := boltdb.Open(filepath.Join(t.TempDir(), "atoll.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	e := &engine{h: h, rc: rc}
	rec := records.New(db)
	d := clearance.Deps{Server: srv, DefaultRequirements: []string{"approved"}, Host: h, Git: git{}, Loader: e, Engine: e, Trail: e, View: e, JobURL: e.JobURL,
		Records: rec, Templates: tmpl}
	if ps != nil {
		d.Policies = ps
	}
	return clearance.New(d), e, rec
}

// approved is an approving review of the head by user.
func approved(user string) vcs.Review {
	return vcs.Review{User: user, State: vcs.ReviewApproved, CommitID: headSHA}
}

// unmet lists the refused projects' unmet requirements, rendered.
func unmet(refused []templates.RefusedProject) string {
	var out []string
	for _, p := range refused {
		out = append(out, p.Name+": "+strings.Join(p.Unmet, " | "))
	}
	return strings.Join(out, "\n")
}

// writers gives users write permission.
func writers(users ...string) map[string]vcs.Permission {
	out := map[string]vcs.Permission{}
	for _, u := range users {
		out[u] = vcs.PermissionWrite
	}
	return out
}
