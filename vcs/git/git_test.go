package git

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atollhq/atoll/vcs"
)

const testToken = "ghs_SuperSecretInstallationToken0123456789"

var testRepo = vcs.Repo{Owner: "Octo", Name: "infra"}

// origin is a bare repository served over smart HTTP by git http-backend,
// requiring basic auth user x-access-token with the installation token,
// plus a work clone to make commits in.
type origin struct {
	t     *testing.T
	root  string // GIT_PROJECT_ROOT
	bare  string // root/Octo/infra.git
	work  string
	srv   *httptest.Server
	token atomic.Value // string accepted
	authz atomic.Int64 // requests that carried the right credentials
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is required: ", err)
	}
	o := &origin{t: t, root: t.TempDir(), work: t.TempDir()}
	o.token.Store(testToken)
	o.bare = filepath.Join(o.root, "Octo", "infra.git")
	o.git("", "init", "--bare", "--quiet", "--initial-branch=main", o.bare)
	o.git(o.work, "init", "--quiet", "--initial-branch=main")
	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + o.root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "x-access-token" || pass != o.token.Load().(string) {
			w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
			http.Error(w, "Invalid username or token.", http.StatusUnauthorized)
			return
		}
		o.authz.Add(1)
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

// git runs git for the test's own setup, with a throwaway identity.
func (o *origin) git(dir string, args ...string) string {
	o.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=Alice", "GIT_AUTHOR_EMAIL=alice@example.com",
		"GIT_COMMITTER_NAME=Alice", "GIT_COMMITTER_EMAIL=alice@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		o.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files on branch (created from the current HEAD if new),
// commits, pushes to the bare origin and returns the sha.
func (o *origin) commit(branch string, files map[string]string) string {
	o.t.Helper()
	switch {
	case o.git(o.work, "symbolic-ref", "--short", "HEAD") == branch:
	case o.git(o.work, "branch", "--list", branch) != "":
		o.git(o.work, "checkout", "--quiet", branch)
	default:
		o.git(o.work, "checkout", "--quiet", "-b", branch)
	}
	for name, content := range files {
		p := filepath.Join(o.work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			o.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			o.t.Fatal(err)
		}
	}
	o.git(o.work, "add", "-A")
	o.git(o.work, "commit", "--quiet", "-m", "change "+branch)
	sha := o.git(o.work, "rev-parse", "HEAD")
	o.git(o.work, "push", "--quiet", "--force", o.bare, branch+":refs/heads/"+branch)
	return sha
}

// pullRef points refs/pull/N/head at sha in the origin, as GitHub does.
func (o *origin) pullRef(n int, sha string) {
	o.git(o.bare, "update-ref", fmt.Sprintf("refs/pull/%d/head", n), sha)
}

// newPull is an origin whose main has net/main.tf and whose pull
// request 1 adds app/main.tf on branch feature; base is main's commit,
// head the pull request's.
func newPull(t *testing.T) (o *origin, base, head string) {
	o = newOrigin(t)
	base = o.commit("main", map[string]string{"net/main.tf": "a\n"})
	head = o.commit("feature", map[string]string{"app/main.tf": "b\n"})
	o.pullRef(1, head)
	return o, base, head
}

func (o *origin) mirrors(t *testing.T, logs *bytes.Buffer) *Mirrors {
	return &Mirrors{
		Dir:      t.TempDir(),
		Token:    func(ctx context.Context, repo vcs.Repo) (string, error) { return testToken, nil },
		CloneURL: func(repo vcs.Repo) string { return o.srv.URL + "/" + repo.Owner + "/" + repo.Name + ".git" },
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFetchWorktreeMerge(t *testing.T) {
	o, a, b := newPull(t)
	ctx := context.Background()
	var logs bytes.Buffer
	m := o.mirrors(t, &logs)

	if err := m.Fetch(ctx, testRepo, "+refs/pull/1/head:refs/pull/1/head"); err != nil {
		t.Fatal(err)
	}
	mirror, _ := m.MirrorPath(testRepo)
	if mirror != filepath.Join(m.Dir, "octo", "infra.git") {
		t.Errorf("mirror at %s", mirror)
	}
	if o.authz.Load() == 0 {
		t.Fatal("origin saw no authenticated request: the extraheader was not sent")
	}

	// Worktree at an exact sha.
	wtA := filepath.Join(t.TempDir(), "a")
	if err := m.Worktree(ctx, testRepo, a, wtA); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(o.git(wtA, "rev-parse", "HEAD")); got != a {
		t.Errorf("worktree HEAD = %s, want %s", got, a)
	}
	if _, err := os.Stat(filepath.Join(wtA, "app/main.tf")); !os.IsNotExist(err) {
		t.Errorf("app/main.tf should not be in main's first commit")
	}

	// Incremental fetch: the mirror stays, the new commit arrives.
	marker := filepath.Join(mirror, "atoll-marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := o.commit("main", map[string]string{"net/vars.tf": "c\n"})
	if err := m.Fetch(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("the mirror was recreated instead of fetched into")
	}
	if got := o.git(mirror, "rev-parse", "refs/heads/main"); got != c {
		t.Errorf("mirror main = %s, want %s", got, c)
	}
	if got := o.git(mirror, "rev-parse", "refs/pull/1/head"); got != b {
		t.Errorf("mirror refs/pull/1/head = %s, want %s", got, b)
	}

	// Merge worktree: base c, head b.
	wtM := filepath.Join(t.TempDir(), "merge")
	mergeSHA, err := m.MergeWorktree(ctx, testRepo, c, b, wtM)
	if err != nil {
		t.Fatal(err)
	}
	if parents := o.git(wtM, "rev-list", "--parents", "-n", "1", "HEAD"); parents != mergeSHA+" "+c+" "+b {
		t.Errorf("merge commit parents = %q, want %s %s %s", parents, mergeSHA, c, b)
	}
	if who := o.git(wtM, "log", "-1", "--format=%cn <%ce>"); who != CommitterName+" <"+CommitterEmail+">" {
		t.Errorf("committer = %q", who)
	}
	if readFile(t, filepath.Join(wtM, "app/main.tf")) != "b\n" || readFile(t, filepath.Join(wtM, "net/vars.tf")) != "c\n" {
		t.Error("merge worktree lacks a side's files")
	}

	// Changed files: merge-base diff, so main's later commit is not in it.
	files, err := m.ChangedFiles(ctx, testRepo, c, b)
	if err != nil || !slices.Equal(files, []string{"app/main.tf"}) {
		t.Errorf("ChangedFiles() = %v, %v", files, err)
	}
	for _, tt := range []struct {
		anc, desc string
		want      bool
	}{{a, c, true}, {a, b, true}, {b, c, false}, {c, c, true}, {"main", "refs/pull/1/head", false}} {
		got, err := m.IsAncestor(ctx, testRepo, tt.anc, tt.desc)
		if err != nil || got != tt.want {
			t.Errorf("IsAncestor(%.7s, %.7s) = %v, %v; want %v", tt.anc, tt.desc, got, err, tt.want)
		}
	}

	for _, wt := range []string{wtA, wtM} {
		if err := m.RemoveWorktree(ctx, testRepo, wt); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(wt); !os.IsNotExist(err) {
			t.Errorf("%s still exists", wt)
		}
	}
	if list := o.git(mirror, "worktree", "list", "--porcelain"); strings.Count(list, "worktree ") != 1 {
		t.Errorf("worktrees left:\n%s", list)
	}
	if err := m.RemoveWorktree(ctx, testRepo, wtA); err != nil {
		t.Errorf("removing a removed worktree: %v", err)
	}
	if strings.Contains(logs.String(), testToken) || strings.Contains(logs.String(), base64.StdEncoding.EncodeToString([]byte("x-access-token:"+testToken))) {
		t.Errorf("token in logs:\n%s", logs.String())
	}
}

// TestTokenNeverLeaks: with a token origin refuses, and with a URL that
// does not exist, the errors and logs carry no form of the token.
func TestTokenNeverLeaks(t *testing.T) {
	o := newOrigin(t)
	o.commit("main", map[string]string{"a.tf": "a\n"})
	o.token.Store("another-token")
	var logs bytes.Buffer
	m := o.mirrors(t, &logs)
	ctx := context.Background()
	encoded := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + testToken))
	err := m.Fetch(ctx, testRepo)
	if err == nil {
		t.Fatal("fetch with a refused token succeeded")
	}
	m.CloneURL = func(repo vcs.Repo) string { return o.srv.URL + "/nothing/here.git" }
	err2 := m.Fetch(ctx, testRepo, "+refs/pull/9/head:refs/pull/9/head")
	if err2 == nil {
		t.Fatal("fetch of a missing repository succeeded")
	}
	for _, s := range []string{err.Error(), err2.Error(), logs.String()} {
		if strings.Contains(s, testToken) || strings.Contains(s, encoded) || strings.Contains(s, "Authorization") {
			t.Errorf("token leaked: %s", s)
		}
	}
	t.Logf("errors: %v / %v", err, err2)
}

func TestCommandKeepsTokenOutOfArgv(t *testing.T) {
	t.Setenv("GIT_CONFIG_COUNT", "1")
	t.Setenv("GIT_CONFIG_KEY_0", "http.proxy")
	c := command{args: []string{"fetch", "https://example.com/o/r.git"}, token: testToken}
	for _, a := range c.args {
		if strings.Contains(a, testToken) {
			t.Fatalf("token in argv: %v", c.args)
		}
	}
	env := c.env()
	want := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+testToken))
	var keys, values []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GIT_CONFIG_KEY_"):
			keys = append(keys, v)
		case strings.HasPrefix(k, "GIT_CONFIG_VALUE_"):
			values = append(values, v)
		case k == "GIT_CONFIG_COUNT" && v == "1":
			t.Error("inherited GIT_CONFIG_COUNT kept")
		}
	}
	i := slices.Index(keys, "http.extraHeader")
	if i < 0 || values[i] != want {
		t.Errorf("extraHeader not in env: keys %v", keys)
	}
	if slices.Contains(keys, "http.proxy") {
		t.Error("inherited GIT_CONFIG_KEY_0 kept")
	}
	if !slices.Contains(env, "GIT_TERMINAL_PROMPT=0") {
		t.Error("GIT_TERMINAL_PROMPT=0 missing")
	}
}

func TestScrub(t *testing.T) {
	encoded := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + testToken))
	in := "fatal: " + testToken + " header Authorization: Basic " + encoded
	got := scrub(in, testToken)
	if strings.Contains(got, testToken) || strings.Contains(got, encoded) {
		t.Errorf("scrub() = %q", got)
	}
	if scrub("nothing", "") != "nothing" {
		t.Error("scrub with no token changed the text")
	}
}

func TestMergeConflict(t *testing.T) {
	o := newOrigin(t)
	ctx := context.Background()
	o.commit("main", map[string]string{"main.tf": "base\n"})
	head := o.commit("feature", map[string]string{"main.tf": "feature\n"})
	base := o.commit("main", map[string]string{"main.tf": "main\n"})
	m := o.mirrors(t, &bytes.Buffer{})
	if err := m.Fetch(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "wt")
	_, err := m.MergeWorktree(ctx, testRepo, base, head, dest)
	if !errors.Is(err, ErrMergeConflict) || !strings.Contains(err.Error(), "main.tf") {
		t.Fatalf("MergeWorktree() error = %v, want ErrMergeConflict naming main.tf", err)
	}
	if err := m.RemoveWorktree(ctx, testRepo, dest); err != nil {
		t.Fatal(err)
	}
}

// TestParallelWorktrees: jobs of one repository add worktrees at once.
func TestParallelWorktrees(t *testing.T) {
	o := newOrigin(t)
	ctx := context.Background()
	var shas []string
	for i := range 8 {
		shas = append(shas, o.commit("main", map[string]string{"f.tf": fmt.Sprint(i)}))
	}
	m := o.mirrors(t, &bytes.Buffer{})
	if err := m.Fetch(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	// Worktrees are added and removed side by side (a PR's projects
	// plan at once), and a fetch comes in between them. (git's worktree
	// add reads the other worktrees' records: run side by side in one
	// mirror, adds fail with "failed to read worktrees/N/commondir", which
	// is why they take the mirror's lock.)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, len(shas))
	for i, sha := range shas {
		wg.Go(func() {
			dest := filepath.Join(dir, fmt.Sprint(i))
			if errs[i] = m.Worktree(ctx, testRepo, sha, dest); errs[i] != nil {
				return
			}
			if got := readFile(t, filepath.Join(dest, "f.tf")); got != fmt.Sprint(i) {
				errs[i] = fmt.Errorf("worktree of commit %d holds f.tf %q", i, got)
			}
			if err := m.RemoveWorktree(ctx, testRepo, dest); err != nil {
				errs[i] = err
			}
		})
	}
	o.commit("main", map[string]string{"f.tf": "later"})
	if err := m.Fetch(ctx, testRepo); err != nil {
		t.Error(err)
	}
	wg.Wait()
	if left := strings.TrimSpace(o.git(filepath.Join(m.Dir, "octo", "infra.git"), "worktree", "list", "--porcelain")); strings.Count(left, "worktree ") != 1 {
		t.Errorf("worktrees left in the mirror:\n%s", left)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("job %d: %v", i, err)
		}
	}
}

func TestInputsChecked(t *testing.T) {
	m := &Mirrors{Dir: t.TempDir()}
	ctx := context.Background()
	for _, repo := range []vcs.Repo{{Owner: "..", Name: "x"}, {Owner: "a/b", Name: "c"}, {Owner: "o", Name: ""}} {
		if _, err := m.MirrorPath(repo); err == nil {
			t.Errorf("MirrorPath(%+v) accepted", repo)
		}
	}
	if err := m.Fetch(ctx, testRepo, "--upload-pack=touch /tmp/x"); err == nil {
		t.Error("an option as refspec was accepted")
	}
	if err := m.Worktree(ctx, testRepo, "--orphan", t.TempDir()); err == nil {
		t.Error("an option as sha was accepted")
	}
	if _, err := m.IsAncestor(ctx, testRepo, "-h", "main"); err == nil {
		t.Error("an option as revision was accepted")
	}
	if err := m.Worktree(ctx, testRepo, "0123456789abcdef0123456789abcdef01234567", filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("a worktree of a commit never fetched was made")
	}
}

// TestHasCommits: the mirror answers whether it holds commits, so that a
// job can skip the fetch its event's discovery already made.
func TestHasCommits(t *testing.T) {
	o := newOrigin(t)
	ctx := context.Background()
	a := o.commit("main", map[string]string{"main.tf": "a\n"})
	m := o.mirrors(t, &bytes.Buffer{})
	if has, err := m.HasCommits(ctx, testRepo, a); err != nil || has {
		t.Fatalf("before any fetch: %v, %v; want false", has, err)
	}
	if err := m.Fetch(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	if has, err := m.HasCommits(ctx, testRepo, a, a[:12]); err != nil || !has {
		t.Errorf("after the fetch: %v, %v; want true", has, err)
	}
	b := o.commit("main", map[string]string{"main.tf": "b\n"})
	if has, err := m.HasCommits(ctx, testRepo, a, b); err != nil || has {
		t.Errorf("a commit pushed since: %v, %v; want false", has, err)
	}
	if _, err := m.HasCommits(ctx, testRepo, "--all"); err == nil {
		t.Error("a flag as sha was accepted")
	}
}

// Two replicas, each with its own mirror, merge the same head into the
// same base at different times: they must make the same merge commit, so
// a plan made on one can be applied on the other. A mirror that never saw
// a commit says so with ErrCommitMissing.
func TestMergeCommitIsTheSameOnEveryReplica(t *testing.T) {
	o, base, head := newPull(t)
	ctx := context.Background()
	var logs bytes.Buffer
	first, second := o.mirrors(t, &logs), o.mirrors(t, &logs)
	// The replicas merge at different times (the process's own date
	// variables stand in for the clock; a merge ignores them).
	t.Setenv("GIT_COMMITTER_DATE", "2001-02-03T04:05:06Z")
	if err := first.Fetch(ctx, testRepo, "+refs/pull/1/head:refs/pull/1/head"); err != nil {
		t.Fatal(err)
	}
	planned, err := first.MergeWorktree(ctx, testRepo, base, head, filepath.Join(t.TempDir(), "plan"))
	if err != nil {
		t.Fatal(err)
	}

	if err := second.Fetch(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	err = second.Worktree(ctx, testRepo, planned, filepath.Join(t.TempDir(), "apply"))
	if !errors.Is(err, ErrCommitMissing) {
		t.Fatalf("worktree of a merge made elsewhere: err = %v, want ErrCommitMissing", err)
	}
	if err := second.Fetch(ctx, testRepo, "+refs/pull/1/head:refs/pull/1/head"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_COMMITTER_DATE", "2002-03-04T05:06:07Z")
	again, err := second.MergeWorktree(ctx, testRepo, base, head, filepath.Join(t.TempDir(), "again"))
	if err != nil {
		t.Fatal(err)
	}
	if again != planned {
		t.Errorf("the second replica's merge is %s, the first's %s: the same merge must give the same commit", again, planned)
	}
}

// A mirror that lacks the base or the head says so with ErrCommitMissing
// (the runner then fetches and checks out again) and leaves nothing at
// dest; once fetched, the merge works, and the SHA it returns, read from
// the worktree's files, is the commit git says the worktree is at.
func TestMergeWorktreeCommitMissing(t *testing.T) {
	o := newOrigin(t)
	ctx := context.Background()
	base := o.commit("main", map[string]string{"net/main.tf": "a\n"})
	m := o.mirrors(t, &bytes.Buffer{})
	if err := m.Fetch(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	head := o.commit("feature", map[string]string{"app/main.tf": "b\n"})
	newBase := o.commit("main", map[string]string{"net/main.tf": "c\n"})
	for name, c := range map[string][2]string{"head": {base, head}, "base": {newBase, head}} {
		dest := filepath.Join(t.TempDir(), "wt")
		_, err := m.MergeWorktree(ctx, testRepo, c[0], c[1], dest)
		if !errors.Is(err, ErrCommitMissing) || !errors.Is(err, vcs.ErrCommitMissing) {
			t.Fatalf("%s missing: err = %v, want ErrCommitMissing", name, err)
		}
		if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s missing: dest left behind (%v)", name, err)
		}
	}
	if err := m.Fetch(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "wt")
	sha, err := m.MergeWorktree(ctx, testRepo, newBase, head, dest)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", dest, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != sha || len(sha) != 40 {
		t.Errorf("MergeWorktree() = %q, the worktree is at %q", sha, got)
	}
	if err := m.RemoveWorktree(ctx, testRepo, dest); err != nil {
		t.Fatal(err)
	}
	if _, ok := detachedHead(t.TempDir()); ok {
		t.Error("detachedHead of a directory that is no worktree: ok")
	}
}

// worktrees lists the worktrees git knows of the mirror of testRepo in m
// (not the mirror itself).
func worktrees(t *testing.T, m *Mirrors) []string {
	t.Helper()
	path, err := m.MirrorPath(testRepo)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", path, "worktree", "list", "--porcelain").Output()
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, l := range strings.Split(string(out), "\n") {
		if wt, ok := strings.CutPrefix(l, "worktree "); ok && wt != path {
			list = append(list, wt)
		}
	}
	return list
}

// A merge prepared ahead is taken over by the first MergeWorktree of the
// same base and head: dest is the same clean checkout of the same merge
// commit a merge made then gives, and git knows it at dest; the next
// call makes its own. A prepared merge of other commits is never taken,
// and is removed when no call takes it in time.
func TestPrepareMerge(t *testing.T) {
	o, base, head := newPull(t)
	ctx := context.Background()
	var logs bytes.Buffer
	m, made := o.mirrors(t, &logs), o.mirrors(t, &bytes.Buffer{})
	m.preparedTTL = 50 * time.Millisecond // the stale one below goes soon
	for _, mm := range []*Mirrors{m, made} {
		if err := mm.Fetch(ctx, testRepo, "+refs/pull/1/head:refs/pull/1/head"); err != nil {
			t.Fatal(err)
		}
	}
	want, err := made.MergeWorktree(ctx, testRepo, base, head, filepath.Join(t.TempDir(), "made"))
	if err != nil {
		t.Fatal(err)
	}

	m.PrepareMerge(ctx, testRepo, base, head)
	m.PrepareMerge(ctx, testRepo, base, head) // once
	dest := filepath.Join(t.TempDir(), "job")
	sha, err := m.MergeWorktree(ctx, testRepo, base, head, dest)
	if err != nil {
		t.Fatal(err)
	}
	if sha != want {
		t.Errorf("taken over merge = %s, a merge made gives %s", sha, want)
	}
	if !strings.Contains(logs.String(), "took over prepared merge") {
		t.Errorf("the prepared merge was not taken over; log:\n%s", logs.String())
	}
	if got := o.git(dest, "rev-parse", "HEAD"); got != sha {
		t.Errorf("the worktree is at %s, MergeWorktree said %s", got, sha)
	}
	if st := o.git(dest, "status", "--porcelain"); st != "" {
		t.Errorf("the worktree is not clean: %q", st)
	}
	if got := readFile(t, filepath.Join(dest, "app", "main.tf")) + readFile(t, filepath.Join(dest, "net", "main.tf")); got != "b\na\n" {
		t.Errorf("the merge's files read %q", got)
	}
	if wts := worktrees(t, m); len(wts) != 1 || wts[0] != dest {
		t.Errorf("git knows the worktrees %q, want only %s", wts, dest)
	}
	again := filepath.Join(t.TempDir(), "again")
	if sha2, err := m.MergeWorktree(ctx, testRepo, base, head, again); err != nil || sha2 != want {
		t.Errorf("second MergeWorktree = %s, %v; want %s made", sha2, err, want)
	}
	for _, d := range []string{dest, again} {
		if err := m.RemoveWorktree(ctx, testRepo, d); err != nil {
			t.Fatal(err)
		}
	}
	if wts := worktrees(t, m); len(wts) != 0 {
		t.Errorf("worktrees left: %q", wts)
	}

	// A prepared merge no call takes (a new push made it stale) goes.
	newHead := o.commit("feature", map[string]string{"app/main.tf": "c\n"})
	o.pullRef(1, newHead)
	if err := m.Fetch(ctx, testRepo, "+refs/pull/1/head:refs/pull/1/head"); err != nil {
		t.Fatal(err)
	}
	m.PrepareMerge(ctx, testRepo, base, head)
	other := filepath.Join(t.TempDir(), "other")
	if _, err := m.MergeWorktree(ctx, testRepo, base, newHead, other); err != nil {
		t.Fatal(err)
	}
	if got := o.git(other, "show", "HEAD:app/main.tf"); got != "c" {
		t.Errorf("a merge of another head checked out app/main.tf %q, want the new head's", got)
	}
	if err := m.RemoveWorktree(ctx, testRepo, other); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(worktrees(t, m)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if wts := worktrees(t, m); len(wts) != 0 {
		t.Errorf("a stale prepared merge was not removed: %q", wts)
	}
	if left, _ := os.ReadDir(filepath.Join(m.Dir, preparedDir)); len(left) != 0 {
		t.Errorf("left in the prepared dir: %v", left)
	}
}

// A prepared merge a stopped process left behind is removed, with git's
// record of it, by the next process's first PrepareMerge.
func TestPrepareMergeSweepsLeftovers(t *testing.T) {
	o, base, head := newPull(t)
	ctx := context.Background()
	stopped := o.mirrors(t, &bytes.Buffer{})
	if err := stopped.Fetch(ctx, testRepo, "+refs/pull/1/head:refs/pull/1/head"); err != nil {
		t.Fatal(err)
	}
	stopped.PrepareMerge(ctx, testRepo, base, head)
	stopped.mu.Lock()
	p := stopped.prepared[preparedKey{filepath.Join(stopped.Dir, "octo", "infra.git"), base, head}]
	stopped.mu.Unlock()
	if p == nil {
		t.Fatal("no merge prepared")
	}
	<-p.done
	if p.err != nil || len(worktrees(t, stopped)) != 1 {
		t.Fatalf("prepared merge: %v, worktrees %q", p.err, worktrees(t, stopped))
	}

	var logs bytes.Buffer
	next := &Mirrors{Dir: stopped.Dir, CloneURL: stopped.CloneURL, Token: stopped.Token, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	newHead := o.commit("feature", map[string]string{"app/main.tf": "c\n"})
	newBase := o.commit("main", map[string]string{"net/main.tf": "c\n"})
	next.PrepareMerge(ctx, testRepo, newBase, newHead) // not fetched: it makes nothing, after the sweep
	deadline := time.Now().Add(10 * time.Second)
	for len(worktrees(t, next)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if wts := worktrees(t, next); len(wts) != 0 {
		t.Errorf("the stopped process's prepared merge is still known to git: %q\n%s", wts, logs.String())
	}
	if _, err := os.Stat(p.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stopped process's prepared merge is still there (%v)", err)
	}
}

// FetchCommits brings commits by id, with the ref asked for, in fewer
// requests than Fetch (no listing of the remote's refs), and leaves the
// branches as they were; a bad refspec is refused before git runs.
func TestFetchCommits(t *testing.T) {
	o := newOrigin(t)
	ctx := context.Background()
	base := o.commit("main", map[string]string{"net/main.tf": "a\n"})
	var logs bytes.Buffer
	m := o.mirrors(t, &logs)
	before := o.authz.Load()
	if err := m.Fetch(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	fetchRequests := o.authz.Load() - before
	newBase := o.commit("main", map[string]string{"net/main.tf": "b\n"})
	o.git(o.work, "checkout", "--quiet", "-b", "feature", base)
	head := o.commit("feature", map[string]string{"app/main.tf": "c\n"})
	o.pullRef(1, head)

	before = o.authz.Load()
	if err := m.FetchCommits(ctx, testRepo, "+"+head+":refs/pull/1/head", newBase); err != nil {
		t.Fatal(err)
	}
	if n := o.authz.Load() - before; n >= fetchRequests {
		t.Errorf("FetchCommits made %d requests, Fetch %d: want fewer", n, fetchRequests)
	}
	if has, err := m.HasCommits(ctx, testRepo, head, newBase); err != nil || !has {
		t.Errorf("after FetchCommits: HasCommits = %v, %v", has, err)
	}
	path, _ := m.MirrorPath(testRepo)
	if got := o.git(path, "rev-parse", "refs/pull/1/head"); got != head {
		t.Errorf("refs/pull/1/head = %s, want %s", got, head)
	}
	if got := o.git(path, "rev-parse", "refs/heads/main"); got != base {
		t.Errorf("refs/heads/main = %s, want it left at %s", got, base)
	}
	// git's automatic maintenance runs on the first of a process's
	// fetches by id, then on every maintenanceEvery-th.
	logs.Reset()
	for range maintenanceEvery {
		if err := m.FetchCommits(ctx, testRepo, head); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "maintenance.auto=false"); n != maintenanceEvery-1 {
		t.Errorf("%d of %d fetches by id without maintenance, want %d:\n%s", n, maintenanceEvery, maintenanceEvery-1, logs.String())
	}
	for _, bad := range []string{"main", "+refs/heads/*:refs/heads/*", head[:12], head + ":refs/../x", "--upload-pack=x"} {
		if err := m.FetchCommits(ctx, testRepo, bad); err == nil {
			t.Errorf("FetchCommits(%q): no error", bad)
		}
	}
}
