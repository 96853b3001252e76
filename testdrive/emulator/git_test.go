package emulator

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func gitRun(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(gitEnv(), "GIT_ASKPASS=/bin/false")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestGitOverHTTP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, head := setupRepo(t, e, true)
	if _, err := e.ctl.CreateRepo(ctx, CreateRepo{Owner: "acme", Name: "open"}); err != nil {
		t.Fatal(err)
	}
	tok := e.token(e.installationID("acme", "infra"))
	host := strings.TrimPrefix(e.http.URL, "http://")
	work := t.TempDir()

	if out, err := gitRun(t, work, "clone", "--quiet", e.http.URL+"/acme/infra.git", "anon"); err == nil {
		t.Fatalf("anonymous clone of a private repo worked: %s", out)
	}
	if out, err := gitRun(t, work, "clone", "--quiet", "http://x-access-token:ghs_bogus@"+host+"/acme/infra.git", "bogus"); err == nil {
		t.Fatalf("clone with a bad token worked: %s", out)
	}
	if out, err := gitRun(t, work, "clone", "--quiet", "http://x-access-token:"+tok+"@"+host+"/acme/infra.git", "priv"); err != nil {
		t.Fatalf("clone with a token: %v %s", err, out)
	}
	// Pull request heads are fetchable, as on GitHub.
	out, err := gitRun(t, filepath.Join(work, "priv"), "fetch", "--quiet", "origin", "refs/pull/1/head")
	if err != nil {
		t.Fatalf("fetch refs/pull/1/head: %v %s", err, out)
	}
	if got, _ := gitRun(t, filepath.Join(work, "priv"), "rev-parse", "FETCH_HEAD"); strings.TrimSpace(got) != head {
		t.Errorf("refs/pull/1/head = %s, want %s", got, head)
	}
	// Commits are real and carry their author.
	if got, _ := gitRun(t, filepath.Join(work, "priv"), "log", "-1", "--format=%an <%ae>", head); strings.TrimSpace(got) != "alice <alice@users.noreply.github.com>" {
		t.Errorf("author %q", got)
	}
	// A bearer token in an extra header works too (as http.extraheader sends it).
	if out, err := gitRun(t, work, "-c", "http.extraheader=Authorization: Bearer "+tok, "clone", "--quiet", e.http.URL+"/acme/infra.git", "bearer"); err != nil {
		t.Fatalf("clone with a bearer header: %v %s", err, out)
	}
	if out, err := gitRun(t, work, "clone", "--quiet", e.http.URL+"/acme/open.git", "pub"); err != nil {
		t.Fatalf("anonymous clone of a public repo: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(work, "pub", "x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"add", "x"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"}} {
		if out, err := gitRun(t, filepath.Join(work, "pub"), args...); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	if out, err := gitRun(t, filepath.Join(work, "pub"), "push", "--quiet", "origin", "HEAD:main"); err == nil {
		t.Fatalf("push was accepted: %s", out)
	}
	// The token expires: fetching with it fails afterwards.
	e.offset.Store(int64(e.srv.cfg.TokenTTL) + 1e9)
	if out, err := gitRun(t, filepath.Join(work, "priv"), "fetch", "--quiet", "origin"); err == nil {
		t.Fatalf("fetch with an expired token worked: %s", out)
	}
}
