package github_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollhq/atoll/testdrive/emulator"
	"github.com/atollhq/atoll/vcs"
	"github.com/atollhq/atoll/vcs/git"
	"github.com/atollhq/atoll/vcs/github"
)

// These tests point go-github and ghinstallation, through Client, at the
// emulator in testdrive/emulator, and check every exchange against
// GitHub's OpenAPI description.

const e2eAppID = 4242

var (
	e2eKeyOnce sync.Once
	e2eKey     *rsa.PrivateKey
	e2ePEM     []byte
)

func e2eAppKey(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	e2eKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		e2eKey = k
		e2ePEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	return e2eKey, e2ePEM
}

// clock is the emulator's clock: real time plus an offset tests move.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type e2e struct {
	srv   *httptest.Server
	ctl   *emulator.Control
	clock *clock
	val   *validator
	pem   []byte
	hooks *hookReceiver
}

const e2eSecret = "e2e-webhook-secret"

// hookReceiver checks and parses every webhook the emulator sends, as
// atoll's endpoint would.
type hookReceiver struct {
	t      *testing.T
	mu     sync.Mutex
	routed map[string]int // "event/action -> vcs type" counts
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	event := r.Header.Get("X-GitHub-Event")
	if err := github.ValidateSignature([]byte(e2eSecret), body, r.Header.Get("X-Hub-Signature-256")); err != nil {
		h.t.Errorf("webhook %s: %v", event, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var head struct{ Action string }
	_ = json.Unmarshal(body, &head)
	ev, err := github.ParseWebhook(event, r.Header.Get("X-GitHub-Delivery"), body)
	switch {
	case errors.Is(err, github.ErrUnknownEvent):
	case err != nil:
		h.t.Errorf("webhook %s/%s does not parse: %v", event, head.Action, err)
	case ev != nil && ev.DeliveryID() != r.Header.Get("X-GitHub-Delivery"):
		h.t.Errorf("webhook %s: delivery id %q", event, ev.DeliveryID())
	}
	h.mu.Lock()
	h.routed[fmt.Sprintf("%s/%s -> %T", event, head.Action, ev)]++
	h.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (h *hookReceiver) has(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.routed[key] > 0
}

func startEmulator(t *testing.T, ttl time.Duration) *e2e {
	t.Helper()
	key, pemKey := e2eAppKey(t)
	clk := &clock{}
	hooks := &hookReceiver{t: t, routed: map[string]int{}}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	emu, err := emulator.New(emulator.Config{
		AppID: e2eAppID, AppSlug: "atoll-e2e", AppPublicKey: &key.PublicKey,
		DataDir: t.TempDir(), TokenTTL: ttl, Now: clk.Now,
		WebhookURL: hookSrv.URL, WebhookSecret: e2eSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	v := newValidator(t, emu.Handler())
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { t.Logf("validated %d REST exchanges against the OpenAPI description", v.checked.Load()) })
	return &e2e{srv: srv, ctl: &emulator.Control{BaseURL: srv.URL}, clock: clk, val: v, pem: pemKey, hooks: hooks}
}

func (e *e2e) client(t *testing.T, apiURL string, logs *syncBuffer) *github.Client {
	t.Helper()
	var w io.Writer = os.Stderr
	level := slog.LevelWarn
	if logs != nil {
		w, level = logs, slog.LevelInfo
	}
	c, err := github.New(github.Config{
		AppID: e2eAppID, PrivateKeyPEM: e.pem, APIURL: apiURL,
		Logger:           slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})),
		MaxRateLimitWait: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ptr(s string) *string { return &s }

// TestClientAgainstEmulator performs every Client call against the
// emulator, as github.com (API at the root) and as GitHub Enterprise
// Server (API under /api/v3/, GraphQL at /api/graphql).
func TestClientAgainstEmulator(t *testing.T) {
	for _, tt := range []struct{ name, path string }{{"github.com", "/"}, {"enterprise", "/api/v3/"}} {
		t.Run(tt.name, func(t *testing.T) {
			e := startEmulator(t, time.Hour)
			exerciseClient(t, e, e.client(t, e.srv.URL+tt.path, nil))
			root, v3 := e.val.root.Load(), e.val.v3.Load()
			if tt.path == "/" && v3 != 0 || tt.path != "/" && root != 0 || e.val.graphql.Load() == 0 {
				t.Errorf("REST requests at the root: %d, under /api/v3: %d; GraphQL requests: %d", root, v3, e.val.graphql.Load())
			}
			if t.Failed() {
				t.Logf("operations seen: %v", e.val.operations())
			}
		})
	}
}

func exerciseClient(t *testing.T, e *e2e, c *github.Client) {
	ctx := context.Background()
	info, err := e.ctl.CreateRepo(ctx, emulator.CreateRepo{Owner: "acme", Name: "infra", Files: map[string]string{
		"atoll.yaml": "version: 1\n", "net/main.tf": "# net\n",
	}})
	if err != nil {
		t.Fatal(err)
	}
	head, err := e.ctl.Commit(ctx, emulator.Commit{Repo: "acme/infra", Branch: "feature", Author: "alice",
		Files: map[string]*string{"app/main.tf": ptr("# app\n"), "net/main.tf": ptr("# net v2\n")}})
	if err != nil {
		t.Fatal(err)
	}
	number, err := e.ctl.OpenPR(ctx, emulator.OpenPR{Repo: "acme/infra", Head: "feature", Author: "alice", Title: "Add app"})
	if err != nil {
		t.Fatal(err)
	}
	must(t, e.ctl.SetPermission(ctx, "acme/infra", "bob", "maintain"))
	must(t, e.ctl.AddTeamMember(ctx, "acme", "security", "carol"))
	if _, err := e.ctl.Review(ctx, emulator.Review{Repo: "acme/infra", Number: number, Author: "bob", State: "APPROVED"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.Comment(ctx, emulator.Comment{Repo: "acme/infra", Number: number, Author: "alice", Body: "atoll plan"}); err != nil {
		t.Fatal(err)
	}
	repo := vcs.Repo{Owner: "acme", Name: "infra"} // installation resolved by the client

	slug, err := c.AppSlug(ctx)
	check(t, "AppSlug", err, slug == "atoll-e2e", slug)
	ids, err := c.ListInstallations(ctx)
	check(t, "ListInstallations", err, len(ids) == 1, ids)
	repos, err := c.ListInstallationRepos(ctx, ids[0])
	check(t, "ListInstallationRepos", err, len(repos) == 1 && repos[0].FullName() == "acme/infra" && repos[0].InstallationID == ids[0], repos)
	tok, err := c.Token(ctx, repo)
	check(t, "Token", err, strings.HasPrefix(tok, "ghs_"), len(tok))

	got, err := c.GetRepo(ctx, repo)
	check(t, "GetRepo", err, got.DefaultBranch == info.DefaultBranch && got.InstallationID == ids[0], got)
	sha, err := c.BranchSHA(ctx, repo, "feature")
	check(t, "BranchSHA", err, sha == head, sha)
	required, err := c.RequiredStatusChecks(ctx, repo, "main")
	check(t, "RequiredStatusChecks (unprotected)", err, len(required) == 0, required)
	must(t, e.ctl.ProtectBranch(ctx, emulator.BranchProtection{Repo: "acme/infra", Branch: "main", RequiredChecks: []string{"ci", "atoll/plan: net"}}))
	required, err = c.RequiredStatusChecks(ctx, repo, "main")
	check(t, "RequiredStatusChecks", err, slices.Equal(required, []string{"ci", "atoll/plan: net"}), required)
	must(t, e.ctl.ProtectBranch(ctx, emulator.BranchProtection{Repo: "acme/infra", Branch: "main"}))
	pr, err := c.GetPullRequest(ctx, repo, number)
	check(t, "GetPullRequest", err, pr.HeadSHA == head && pr.BaseSHA == info.HeadSHA && pr.Author == "alice" && pr.State == "open", pr)
	prs, err := c.ListOpenPullRequests(ctx, repo)
	check(t, "ListOpenPullRequests", err, len(prs) == 1 && prs[0].Number == number, prs)
	files, complete, err := c.ListPullRequestFiles(ctx, repo, number)
	slices.Sort(files)
	check(t, "ListPullRequestFiles", err, complete && slices.Equal(files, []string{"app/main.tf", "net/main.tf"}), files)
	reviews, err := c.ListReviews(ctx, repo, number)
	check(t, "ListReviews", err, len(reviews) == 1 && reviews[0].State == vcs.ReviewApproved && reviews[0].User == "bob", reviews)
	perm, err := c.UserPermission(ctx, repo, "bob")
	check(t, "UserPermission", err, perm == vcs.PermissionMaintain, perm)
	member, err := c.IsTeamMember(ctx, repo, "acme", "security", "carol")
	check(t, "IsTeamMember(carol)", err, member, member)
	member, err = c.IsTeamMember(ctx, repo, "acme", "security", "alice")
	check(t, "IsTeamMember(alice)", err, !member, member)
	content, err := c.ReadFile(ctx, repo, "feature", "app/main.tf")
	check(t, "ReadFile", err, string(content) == "# app\n", string(content))
	_, err = c.ReadFile(ctx, repo, "main", "app/main.tf")
	check(t, "ReadFile(missing)", nil, errors.Is(err, vcs.ErrNotFound), err)

	// Comments.
	cm, err := c.CreateComment(ctx, repo, number, "Plan: 1 to add")
	check(t, "CreateComment", err, cm.ID != 0 && cm.NodeID != "" && cm.Author.Bot, cm)
	check(t, "UpdateComment", c.UpdateComment(ctx, repo, cm.ID, "Plan: 2 to add"), true, nil)
	comments, err := c.ListComments(ctx, repo, number)
	check(t, "ListComments", err, len(comments) == 2 && comments[1].Body == "Plan: 2 to add" && comments[0].Body == "atoll plan", comments)
	check(t, "AddReaction", c.AddReaction(ctx, repo, comments[0].ID, "eyes"), true, nil)
	check(t, "MinimizeComment", c.MinimizeComment(ctx, repo, cm.NodeID, "OUTDATED"), true, nil)
	state, err := e.ctl.GetComment(ctx, "acme/infra", cm.ID)
	check(t, "comment minimized", err, state.IsMinimized, state)
	state, err = e.ctl.GetComment(ctx, "acme/infra", comments[0].ID)
	check(t, "reaction stored", err, slices.Contains(state.Reactions, "eyes"), state)

	// Check runs.
	cr, err := c.CreateCheckRun(ctx, repo, vcs.CheckRun{Name: "atoll/plan: app", HeadSHA: head, Status: vcs.CheckInProgress, Title: "Planning", DetailsURL: "https://atoll.example/jobs/1"})
	check(t, "CreateCheckRun", err, cr.ID != 0 && cr.Status == vcs.CheckInProgress, cr)
	cr.Status, cr.Conclusion, cr.Title, cr.Summary = "", vcs.ConclusionSuccess, "1 to add", "Plan: 1 to add, 0 to change, 0 to destroy."
	check(t, "UpdateCheckRun", c.UpdateCheckRun(ctx, repo, cr), true, nil)
	runs, err := c.ListCheckRuns(ctx, repo, head)
	check(t, "ListCheckRuns", err, len(runs) == 1 && runs[0].Conclusion == vcs.ConclusionSuccess && runs[0].Status == vcs.CheckCompleted && runs[0].Title == "1 to add", runs)

	// Issues and labels.
	issue, err := c.CreateIssue(ctx, repo, vcs.Issue{Title: "Drift in net", Body: "drifted", Labels: []string{"atoll:drift"}})
	check(t, "CreateIssue", err, issue.Number != 0 && issue.State == "open", issue)
	issues, err := c.ListIssues(ctx, repo, "atoll:drift", "open")
	check(t, "ListIssues", err, len(issues) == 1 && issues[0].Number == issue.Number, issues)
	closed, reason := "closed", "completed"
	check(t, "UpdateIssue", c.UpdateIssue(ctx, repo, issue.Number, vcs.IssueUpdate{State: &closed, StateReason: &reason}), true, nil)
	issues, err = c.ListIssues(ctx, repo, "atoll:drift", "open")
	check(t, "ListIssues(after close)", err, len(issues) == 0, issues)
	check(t, "SetLabels(add)", c.SetLabels(ctx, repo, number, []string{"atoll:planned", "infra"}, nil), true, nil)
	check(t, "SetLabels(remove)", c.SetLabels(ctx, repo, number, nil, []string{"infra", "never-there"}), true, nil)
	pr, err = c.GetPullRequest(ctx, repo, number)
	check(t, "labels", err, slices.Equal(pr.Labels, []string{"atoll:planned"}), pr.Labels)

	// git over HTTPS with the installation token, through vcs/git.
	m := &git.Mirrors{Dir: t.TempDir(), Token: c.Token, CloneURL: func(r vcs.Repo) string { return e.srv.URL + "/" + r.FullName() + ".git" }}
	check(t, "git fetch", m.Fetch(ctx, repo, "+refs/pull/"+strconv.Itoa(number)+"/head:refs/pull/"+strconv.Itoa(number)+"/head"), true, nil)
	wt := filepath.Join(t.TempDir(), "wt")
	check(t, "git worktree", m.Worktree(ctx, repo, head, wt), true, nil)
	b, err := os.ReadFile(filepath.Join(wt, "app/main.tf"))
	check(t, "worktree content", err, string(b) == "# app\n", string(b))

	// Merge last: it closes the PR.
	_, err = c.MergePullRequest(ctx, repo, number, "merge", "0000000000000000000000000000000000000000")
	check(t, "MergePullRequest(stale sha)", nil, errors.Is(err, github.ErrHeadChanged), err)
	mergeSHA, err := c.MergePullRequest(ctx, repo, number, "merge", head)
	check(t, "MergePullRequest", err, len(mergeSHA) == 40, mergeSHA)
	pr, err = c.GetPullRequest(ctx, repo, number)
	check(t, "merged PR", err, pr.Merged && pr.MergeCommitSHA == mergeSHA && pr.State == "closed", pr)
	sha, err = c.BranchSHA(ctx, repo, "main")
	check(t, "main after merge", err, sha == mergeSHA, sha)
	prs, err = c.ListOpenPullRequests(ctx, repo)
	check(t, "ListOpenPullRequests(after merge)", err, len(prs) == 0, prs)

	// The emulator's webhooks parse and are routed.
	must(t, e.ctl.FlushDeliveries(ctx))
	for _, want := range []string{
		"installation/created -> *vcs.InstallationEvent",
		"push/ -> *vcs.PushEvent",
		"pull_request/opened -> *vcs.PullRequestEvent",
		"pull_request/closed -> *vcs.PullRequestEvent",
		"pull_request_review/submitted -> *vcs.ReviewEvent",
		"issue_comment/created -> *vcs.CommentEvent",
	} {
		if !e.hooks.has(want) {
			t.Errorf("no webhook %s; got %v", want, e.hooks.routed)
		}
	}
}

// TestEmulatorExpiredToken: the emulator's clock passes the token's
// expiry while the client still holds it; the API answers 401, and the
// client fetches a new token and succeeds.
func TestEmulatorExpiredToken(t *testing.T) {
	e := startEmulator(t, 3*time.Minute)
	logs := &syncBuffer{}
	c := e.client(t, e.srv.URL+"/", logs)
	ctx := context.Background()
	if _, err := e.ctl.CreateRepo(ctx, emulator.CreateRepo{Owner: "acme", Name: "infra"}); err != nil {
		t.Fatal(err)
	}
	repo := vcs.Repo{Owner: "acme", Name: "infra"}
	if _, err := c.GetRepo(ctx, repo); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(4 * time.Minute)
	if _, err := c.GetRepo(ctx, repo); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if !strings.Contains(logs.String(), "token rejected") {
		t.Errorf("the old token was not rejected first; logs:\n%s", logs.String())
	}
}

// TestEmulatorRateLimit: forced primary and secondary limits (403 and
// 429) are waited out and the calls succeed.
func TestEmulatorRateLimit(t *testing.T) {
	e := startEmulator(t, time.Hour)
	logs := &syncBuffer{}
	c := e.client(t, e.srv.URL+"/", logs)
	ctx := context.Background()
	if _, err := e.ctl.CreateRepo(ctx, emulator.CreateRepo{Owner: "acme", Name: "infra"}); err != nil {
		t.Fatal(err)
	}
	repo := vcs.Repo{Owner: "acme", Name: "infra"}
	number, err := e.ctl.OpenIssue(ctx, emulator.OpenIssue{Repo: "acme/infra", Title: "t", Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRepo(ctx, repo); err != nil { // token and installation in hand
		t.Fatal(err)
	}
	for _, rl := range []emulator.RateLimit{
		{Count: 1, Status: 403},                // primary: remaining 0 until reset
		{Count: 2, Status: 429, RetryAfter: 1}, // secondary with Retry-After
		{Count: 1, Status: 403, Remaining: 10}, // secondary without Retry-After
	} {
		if err := e.ctl.ForceRateLimit(ctx, rl); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := c.CreateComment(ctx, repo, number, "a comment body, replayed"); err != nil {
			t.Errorf("%+v: %v", rl, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%+v: took %v", rl, d)
		}
	}
	if n := strings.Count(logs.String(), "rate limited; waiting"); n != 4 {
		t.Errorf("waited %d times, want 4; logs:\n%s", n, logs.String())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func check(t *testing.T, what string, err error, ok bool, got any) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if !ok {
		t.Errorf("%s: unexpected result %+v", what, got)
	}
}

// TestEmulatorGitTokenNarrowed: the token for git reaches its repository
// with contents: read only (no writes, no other private repository), and
// every token minted is handed to Config.Secret; every text written goes
// through Config.Mask.
func TestEmulatorGitTokenNarrowed(t *testing.T) {
	e := startEmulator(t, time.Hour)
	ctx := context.Background()
	for _, name := range []string{"infra", "other"} {
		if _, err := e.ctl.CreateRepo(ctx, emulator.CreateRepo{Owner: "acme", Name: name, Private: true, Files: map[string]string{"main.tf": "# x\n"}}); err != nil {
			t.Fatal(err)
		}
	}
	number, err := e.ctl.OpenIssue(ctx, emulator.OpenIssue{Repo: "acme/infra", Title: "t", Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var minted []string
	c, err := github.New(github.Config{AppID: e2eAppID, PrivateKeyPEM: e.pem, APIURL: e.srv.URL + "/",
		Mask:   func(s string) string { return strings.ReplaceAll(s, "hunter22", "***") },
		Secret: func(tok string) { mu.Lock(); minted = append(minted, tok); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	repo := vcs.Repo{Owner: "acme", Name: "infra"}
	tok, err := c.Token(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	m := &git.Mirrors{Dir: t.TempDir(), Token: c.Token, CloneURL: func(r vcs.Repo) string { return e.srv.URL + "/" + r.FullName() + ".git" }}
	must(t, m.Fetch(ctx, repo))
	raw := func(method, path string, body string) int {
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := raw("POST", "/repos/acme/infra/issues/"+strconv.Itoa(number)+"/comments", `{"body":"x"}`); s != http.StatusForbidden {
		t.Errorf("the git token wrote a comment: %d, want 403", s)
	}
	if s := raw("GET", "/repos/acme/other", ""); s != http.StatusNotFound {
		t.Errorf("the git token of acme/infra read acme/other: %d, want 404", s)
	}
	cm, err := c.CreateComment(ctx, repo, number, "password hunter22")
	must(t, err)
	if cm.Body != "password ***" {
		t.Errorf("comment body sent = %q, want it masked", cm.Body)
	}
	is, err := c.CreateIssue(ctx, repo, vcs.Issue{Title: "drift hunter22", Body: "value hunter22"})
	must(t, err)
	body := "now hunter22"
	must(t, c.UpdateIssue(ctx, repo, is.Number, vcs.IssueUpdate{Body: &body}))
	issues, err := c.ListIssues(ctx, repo, "", "open")
	must(t, err)
	for _, i := range issues {
		if strings.Contains(i.Title+i.Body, "hunter22") {
			t.Errorf("issue #%d sent unmasked: %q %q", i.Number, i.Title, i.Body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(minted) < 2 || !slices.Contains(minted, tok) {
		t.Errorf("tokens handed to Secret: %d (git token among them: %v), want the git token and the API token", len(minted), slices.Contains(minted, tok))
	}
}
