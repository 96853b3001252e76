package emulator

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ghInstall is how to get the gh CLI these tests drive.
const ghInstall = "apt-get install -y gh"

// ghEnv is the emulator served over HTTPS with its own CA, a bot user
// with a personal access token and write access to acme/infra, and the
// environment that points the gh CLI at it as a GitHub Enterprise Server.
type ghEnv struct {
	*env
	host string
	head string // the head commit of pull request #1
	vars []string
}

func newGHEnv(t *testing.T) *ghEnv {
	t.Helper()
	if _, err := exec.LookPath("gh"); err != nil {
		t.Fatalf("the gh CLI is not installed; install it with: %s", ghInstall)
	}
	e := newEnv(t)
	dir := t.TempDir()
	cfg, caFile, err := WriteTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(validating(t, e.srv.Handler()))
	ts.TLS = cfg
	ts.StartTLS()
	t.Cleanup(ts.Close)
	_, head := setupRepo(t, e, false)
	ctx := context.Background()
	if err := e.ctl.SetPermission(ctx, "acme/infra", "infra-bot", "write"); err != nil {
		t.Fatal(err)
	}
	pat, err := e.ctl.UserToken(ctx, "infra-bot")
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(ts.URL, "https://")
	home := t.TempDir()
	return &ghEnv{env: e, host: host, head: head, vars: []string{
		"GH_HOST=" + host, "GH_ENTERPRISE_TOKEN=" + pat, "SSL_CERT_FILE=" + caFile,
		"GH_CONFIG_DIR=" + filepath.Join(home, "gh"), "HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"GH_NO_UPDATE_NOTIFIER=1", "GH_PROMPT_DISABLED=1", "NO_COLOR=1", "GH_PAGER=cat",
	}}
}

// gh runs the gh CLI against the emulator and returns its standard output.
func (g *ghEnv) gh(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("gh", args...)
	cmd.Env = append(g.vars, "GH_DEBUG="+os.Getenv("GH_DEBUG"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gh %s: %v\n%s%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// TestGHCLI drives the emulator with the gh CLI over HTTPS, as a bot
// user with a personal access token would: the REST and GraphQL paths of
// GitHub Enterprise Server, commit statuses, and pull requests listed and
// shown.
func TestGHCLI(t *testing.T) {
	g := newGHEnv(t)
	var repo struct {
		FullName    string `json:"full_name"`
		Permissions struct {
			Push bool `json:"push"`
		} `json:"permissions"`
	}
	if err := json.Unmarshal(g.gh(t, "api", "repos/acme/infra"), &repo); err != nil {
		t.Fatal(err)
	}
	if repo.FullName != "acme/infra" || !repo.Permissions.Push {
		t.Errorf("gh api repos/acme/infra: %+v, want acme/infra with push", repo)
	}

	var prs []struct {
		Number      int    `json:"number"`
		Title       string `json:"title"`
		HeadRefName string `json:"headRefName"`
		State       string `json:"state"`
	}
	if err := json.Unmarshal(g.gh(t, "pr", "list", "-R", g.host+"/acme/infra", "--json", "number,title,headRefName,state"), &prs); err != nil {
		t.Fatal(err)
	}
	if len(prs) != 1 || prs[0].Number != 1 || prs[0].Title != "Add b" || prs[0].HeadRefName != "feature" || prs[0].State != "OPEN" {
		t.Errorf("gh pr list: %+v, want #1 \"Add b\" from feature, open", prs)
	}
	if out := g.gh(t, "pr", "list", "-R", g.host+"/acme/infra"); !strings.Contains(string(out), "Add b") {
		t.Errorf("gh pr list (table): %q, want the title", out)
	}

	var pr struct {
		HeadRefOid string `json:"headRefOid"`
	}
	if err := json.Unmarshal(g.gh(t, "pr", "view", "1", "-R", g.host+"/acme/infra", "--json", "headRefOid"), &pr); err != nil {
		t.Fatal(err)
	}
	g.gh(t, "api", "-X", "POST", "repos/acme/infra/statuses/"+pr.HeadRefOid,
		"-f", "state=pending", "-f", "context=ci/plan", "-f", "description=planning")
	g.gh(t, "api", "-X", "POST", "repos/acme/infra/statuses/"+pr.HeadRefOid,
		"-f", "state=success", "-f", "context=ci/plan", "-f", "target_url=https://ci.example/1")
	var combined struct {
		State      string `json:"state"`
		TotalCount int    `json:"total_count"`
		Statuses   []struct {
			Context, State string
		} `json:"statuses"`
	}
	if err := json.Unmarshal(g.gh(t, "api", "repos/acme/infra/commits/feature/status"), &combined); err != nil {
		t.Fatal(err)
	}
	if combined.State != "success" || combined.TotalCount != 1 || combined.Statuses[0].Context != "ci/plan" {
		t.Errorf("combined status: %+v, want success with the latest ci/plan only", combined)
	}
	var list []struct {
		State   string `json:"state"`
		Creator struct {
			Login string `json:"login"`
		} `json:"creator"`
	}
	if err := json.Unmarshal(g.gh(t, "api", "repos/acme/infra/commits/"+pr.HeadRefOid+"/statuses"), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].State != "success" || list[1].State != "pending" || list[0].Creator.Login != "infra-bot" {
		t.Errorf("statuses: %+v, want success then pending, both by infra-bot", list)
	}

	out := string(g.gh(t, "pr", "view", "1", "-R", g.host+"/acme/infra"))
	for _, want := range []string{"Add b", "please", "OPEN"} {
		if !strings.Contains(out, want) {
			t.Errorf("gh pr view: no %q in\n%s", want, out)
		}
	}
	var view struct {
		StatusCheckRollup []struct {
			Context string `json:"context"`
			State   string `json:"state"`
		} `json:"statusCheckRollup"`
	}
	if err := json.Unmarshal(g.gh(t, "pr", "view", "1", "-R", g.host+"/acme/infra", "--json", "statusCheckRollup"), &view); err != nil {
		t.Fatal(err)
	}
	if len(view.StatusCheckRollup) != 1 || view.StatusCheckRollup[0].Context != "ci/plan" || view.StatusCheckRollup[0].State != "SUCCESS" {
		t.Errorf("gh pr view statusCheckRollup: %+v, want ci/plan SUCCESS", view.StatusCheckRollup)
	}
}

// TestUserTokenAuth checks a personal access token by Basic and token
// auth over HTTPS, and that it writes only where its user may.
func TestUserTokenAuth(t *testing.T) {
	g := newGHEnv(t)
	pool, err := CAPool(strings.TrimPrefix(g.vars[2], "SSL_CERT_FILE="))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	pat := strings.TrimPrefix(g.vars[1], "GH_ENTERPRISE_TOKEN=")
	other, err := g.ctl.UserToken(context.Background(), "stranger")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		auth func(*http.Request)
		want int
	}{
		{"basic", func(r *http.Request) { r.SetBasicAuth("infra-bot", pat) }, http.StatusCreated},
		{"token", func(r *http.Request) { r.Header.Set("Authorization", "token "+pat) }, http.StatusCreated},
		{"no write role", func(r *http.Request) { r.Header.Set("Authorization", "token "+other) }, http.StatusForbidden},
		{"unknown token", func(r *http.Request) { r.Header.Set("Authorization", "token ghp_nope") }, http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest("POST", "https://"+g.host+"/api/v3/repos/acme/infra/statuses/"+g.head, strings.NewReader(`{"state":"failure"}`))
		tc.auth(req)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}
