package emulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v60/github"
)

func signJWT(t *testing.T, key *rsa.PrivateKey, method jwt.SigningMethod, iss string, iat, exp time.Time) string {
	t.Helper()
	claims := jwt.MapClaims{"iss": iss, "iat": iat.Unix(), "exp": exp.Unix()}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAppJWT(t *testing.T) {
	e := newEnv(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	iss := strconv.FormatInt(e.appID, 10)
	for _, tc := range []struct {
		name string
		auth string
		want int
	}{
		{"valid", "Bearer " + signJWT(t, e.key, jwt.SigningMethodRS256, iss, now.Add(-30*time.Second), now.Add(9*time.Minute)), 200},
		{"signed by another key", "Bearer " + signJWT(t, other, jwt.SigningMethodRS256, iss, now.Add(-30*time.Second), now.Add(time.Minute)), 401},
		{"expired", "Bearer " + signJWT(t, e.key, jwt.SigningMethodRS256, iss, now.Add(-20*time.Minute), now.Add(-11*time.Minute)), 401},
		{"lives over ten minutes", "Bearer " + signJWT(t, e.key, jwt.SigningMethodRS256, iss, now, now.Add(11*time.Minute)), 401},
		{"issued in the future", "Bearer " + signJWT(t, e.key, jwt.SigningMethodRS256, iss, now.Add(5*time.Minute), now.Add(8*time.Minute)), 401},
		{"wrong issuer", "Bearer " + signJWT(t, e.key, jwt.SigningMethodRS256, "999", now, now.Add(time.Minute)), 401},
		{"RS512", "Bearer " + signJWT(t, e.key, jwt.SigningMethodRS512, iss, now, now.Add(time.Minute)), 401},
		{"none", "", 401},
		{"garbage", "Bearer a.b.c", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := e.raw("GET", "/app", tc.auth, nil)
			if status != tc.want {
				t.Errorf("GET /app: %d %s, want %d", status, body, tc.want)
			}
		})
	}
}

func TestInstallationTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, true)
	app := e.appClient(false)
	a, _, err := app.Apps.Get(ctx, "")
	if err != nil || a.GetSlug() != "atoll-test" {
		t.Fatalf("GET /app: %v %v", a, err)
	}
	insts, _, err := app.Apps.ListInstallations(ctx, nil)
	if err != nil || len(insts) != 1 || insts[0].GetAccount().GetLogin() != "acme" {
		t.Fatalf("installations: %v %v", insts, err)
	}
	tok, _, err := app.Apps.CreateInstallationToken(ctx, insts[0].GetID(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.GetToken(), "ghs_") || len(tok.GetToken()) <= 40 {
		t.Errorf("token %q", tok.GetToken())
	}
	if d := time.Until(tok.GetExpiresAt().Time); d < 4*time.Minute || d > 6*time.Minute {
		t.Errorf("token expires in %v, want TokenTTL", d)
	}
	repos, _, err := e.instClient(false, insts[0].GetID()).Apps.ListRepos(ctx, nil)
	if err != nil || repos.GetTotalCount() != 1 || repos.Repositories[0].GetFullName() != "acme/infra" {
		t.Fatalf("installation repos: %v %v", repos, err)
	}
	auth := "token " + tok.GetToken()
	if status, _, body := e.raw("GET", "/repos/acme/infra", auth, nil); status != 200 {
		t.Fatalf("token works: %d %s", status, body)
	}
	// An installation token is no JWT: /app refuses it.
	if status, _, _ := e.raw("GET", "/app", auth, nil); status != 401 {
		t.Errorf("GET /app with an installation token: %d", status)
	}
	// The JWT is no installation token: repository endpoints refuse it.
	if status, _, _ := e.raw("GET", "/repos/acme/infra/installation", auth, nil); status != 401 {
		t.Errorf("GET repo installation with a token: %d", status)
	}
	e.offset.Store(int64(6 * time.Minute))
	status, _, body := e.raw("GET", "/repos/acme/infra", auth, nil)
	if status != 401 || !strings.Contains(string(body), "Bad credentials") {
		t.Errorf("expired token: %d %s", status, body)
	}
	status, _, _ = e.raw("POST", "/repos/acme/infra/issues/1/comments", "token ghs_unknown", map[string]string{"body": "x"})
	if status != 401 {
		t.Errorf("unknown token: %d", status)
	}
}

func TestVisibility(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, true)
	if _, err := e.ctl.CreateRepo(ctx, CreateRepo{Owner: "other", Name: "public"}); err != nil {
		t.Fatal(err)
	}
	acme := "token " + e.token(e.installationID("acme", "infra"))
	otherTok := "token " + e.token(e.installationID("other", "public"))
	for _, tc := range []struct {
		name, method, path, auth string
		want                     int
	}{
		{"private without token", "GET", "/repos/acme/infra", "", 404},
		{"private pulls without token", "GET", "/repos/acme/infra/pulls/1", "", 404},
		{"private with another installation's token", "GET", "/repos/acme/infra", otherTok, 404},
		{"private with its token", "GET", "/repos/acme/infra", acme, 200},
		{"private on /api/v3", "GET", "/api/v3/repos/acme/infra", acme, 200},
		{"public anonymous", "GET", "/repos/other/public", "", 200},
		{"public contents anonymous", "GET", "/repos/other/public/contents/README.md", "", 200},
		{"public with a foreign token", "GET", "/repos/other/public", acme, 200},
		{"missing repo", "GET", "/repos/acme/nope", acme, 404},
		{"missing file", "GET", "/repos/acme/infra/contents/nope.tf", acme, 404},
		{"nested file", "GET", "/repos/acme/infra/contents/modules/x/x.tf?ref=main", acme, 200},
		{"directory", "GET", "/repos/acme/infra/contents/modules", acme, 200},
		{"branch", "GET", "/repos/acme/infra/branches/feature", acme, 200},
		{"missing branch", "GET", "/repos/acme/infra/branches/nope", acme, 404},
		{"compare", "GET", "/repos/acme/infra/compare/main...feature", acme, 200},
		{"write anonymous", "POST", "/repos/other/public/issues", "", 401},
		{"write with a foreign token", "POST", "/repos/other/public/issues", acme, 403},
		{"delete a branch with a foreign token", "DELETE", "/repos/other/public/git/refs/heads/main", acme, 403},
		{"delete a missing branch", "DELETE", "/repos/acme/infra/git/refs/heads/nope", acme, 422},
		{"delete the default branch", "DELETE", "/repos/acme/infra/git/refs/heads/main", acme, 422},
		{"delete a branch", "DELETE", "/repos/acme/infra/git/refs/heads/feature", acme, 204},
		{"deleted branch", "GET", "/repos/acme/infra/branches/feature", acme, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == "POST" {
				body = map[string]string{"title": "t"}
			}
			if status, _, b := e.raw(tc.method, tc.path, tc.auth, body); status != tc.want {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, status, b, tc.want)
			}
		})
	}
}

func TestRateLimits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, false)
	_, h, _ := e.raw("GET", "/repos/acme/infra", "", nil)
	if h.Get("X-RateLimit-Limit") != "60" || h.Get("X-RateLimit-Resource") != "core" {
		t.Errorf("anonymous limits: %v", h)
	}
	if err := e.ctl.ForceRateLimit(ctx, RateLimit{Count: 1, Status: 403, ResetIn: 30}); err != nil {
		t.Fatal(err)
	}
	status, h, body := e.raw("GET", "/repos/acme/infra", "", nil)
	if status != 403 || h.Get("X-RateLimit-Remaining") != "0" || !strings.Contains(string(body), "rate limit") {
		t.Errorf("forced primary limit: %d %v %s", status, h, body)
	}
	if err := e.ctl.ForceRateLimit(ctx, RateLimit{Count: 2, Status: 429, RetryAfter: 7}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		status, h, body = e.raw("GET", "/repos/acme/infra", "", nil)
		if status != 429 || h.Get("Retry-After") != "7" || !strings.Contains(string(body), "secondary rate limit") {
			t.Errorf("forced secondary limit: %d %v %s", status, h, body)
		}
	}
	if status, _, _ = e.raw("GET", "/repos/acme/infra", "", nil); status != 200 {
		t.Errorf("after the forced failures: %d", status)
	}
	// The anonymous hourly limit (60) is enforced like GitHub's.
	for i := 0; i < 60; i++ {
		status, h, _ = e.raw("GET", "/repos/acme/infra", "", nil)
	}
	if status != 403 || h.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("past 60 anonymous requests: %d remaining %s", status, h.Get("X-RateLimit-Remaining"))
	}
	if status, _, _ = e.raw("GET", "/repos/acme/infra", "token "+e.token(e.installationID("acme", "infra")), nil); status != 200 {
		t.Errorf("an installation has its own limit: %d", status)
	}
}

// TestNarrowedTokens: a token narrowed by repositories and permissions
// reaches only those repositories (REST and git), cannot write with read
// permissions, and a narrowing beyond the installation is refused.
func TestNarrowedTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	setupRepo(t, e, true)
	if _, err := e.ctl.CreateRepo(ctx, CreateRepo{Owner: "acme", Name: "other", Private: true, Files: map[string]string{"a": "a\n"}}); err != nil {
		t.Fatal(err)
	}
	app := e.appClient(false)
	inst := e.installationID("acme", "infra")
	read := "read"
	tok, _, err := app.Apps.CreateInstallationToken(ctx, inst, &github.InstallationTokenOptions{
		Repositories: []string{"infra"}, Permissions: &github.InstallationPermissions{Contents: &read}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.Repositories) != 1 || tok.Repositories[0].GetName() != "infra" || tok.GetPermissions().GetContents() != "read" {
		t.Errorf("narrowed token: %d repos, contents %q", len(tok.Repositories), tok.GetPermissions().GetContents())
	}
	auth := "token " + tok.GetToken()
	checks := []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/repos/acme/infra", nil, 200},
		{"GET", "/repos/acme/other", nil, 404},
		{"GET", "/repos/acme/infra/pulls/1", nil, 200},
		{"POST", "/repos/acme/infra/issues/1/comments", map[string]string{"body": "x"}, 403},
		{"POST", "/repos/acme/infra/check-runs", map[string]string{"name": "x", "head_sha": strings.Repeat("a", 40)}, 403},
	}
	for _, c := range checks {
		if status, _, body := e.raw(c.method, c.path, auth, c.body); status != c.want {
			t.Errorf("%s %s with the narrowed token: %d %s, want %d", c.method, c.path, status, body, c.want)
		}
	}
	if status, _, body := e.raw("GET", "/installation/repositories", auth, nil); status != 200 || !strings.Contains(string(body), `"total_count":1`) {
		t.Errorf("installation repositories of the narrowed token: %d %s", status, body)
	}
	for name, want := range map[string]int{"infra": 200, "other": 404} {
		req, _ := http.NewRequest("GET", e.http.URL+"/acme/"+name+".git/info/refs?service=git-upload-pack", nil)
		req.SetBasicAuth("x-access-token", tok.GetToken())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("git fetch of acme/%s with the narrowed token: %d, want %d", name, resp.StatusCode, want)
		}
	}
	// By id too.
	other, _, err := e.instClient(false, inst).Repositories.Get(ctx, "acme", "other")
	if err != nil {
		t.Fatal(err)
	}
	byID, _, err := app.Apps.CreateInstallationToken(ctx, inst, &github.InstallationTokenOptions{RepositoryIDs: []int64{other.GetID()}})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _ := e.raw("GET", "/repos/acme/infra", "token "+byID.GetToken(), nil); status != 404 {
		t.Errorf("a token narrowed to acme/other reads acme/infra: %d", status)
	}
	// Beyond the installation: refused.
	admin := "admin"
	for name, opts := range map[string]*github.InstallationTokenOptions{
		"a repository of no installation": {Repositories: []string{"nope"}},
		"a permission the App lacks":      {Permissions: &github.InstallationPermissions{Administration: &read}},
		"more than the App's level":       {Permissions: &github.InstallationPermissions{Contents: &admin}},
	} {
		if _, resp, err := app.Apps.CreateInstallationToken(ctx, inst, opts); err == nil || resp.StatusCode != 422 {
			t.Errorf("%s: err %v, want 422", name, err)
		}
	}
}
