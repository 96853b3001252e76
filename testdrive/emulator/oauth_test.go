package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestOAuthWebFlow signs a user in as a GitHub App's web flow does: the
// authorize page, the code, its exchange, and /user with the token, which
// expires.
func TestOAuthWebFlow(t *testing.T) {
	e := newEnv(t)
	setupRepo(t, e, true)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(q url.Values) *http.Response {
		t.Helper()
		resp, err := noRedirect.Get(e.http.URL + "/login/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	q := url.Values{"client_id": {"Iv1.test"}, "redirect_uri": {"http://atoll.example/auth/callback"}, "state": {"st8"}}

	// Without a login the page offers the users it knows.
	page := authorize(q)
	body, _ := io.ReadAll(page.Body)
	if page.StatusCode != 200 || !strings.Contains(string(body), "Sign in as") {
		t.Fatalf("authorize page: %d %s", page.StatusCode, body)
	}
	if resp := authorize(url.Values{"client_id": {"nope"}, "redirect_uri": q["redirect_uri"]}); resp.StatusCode != 404 {
		t.Errorf("unknown client: %d", resp.StatusCode)
	}

	q.Set("login", "alice")
	resp := authorize(q)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Host != "atoll.example" || loc.Query().Get("state") != "st8" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")

	exchange := func(secret, code string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("POST", e.http.URL+"/login/oauth/access_token", strings.NewReader(url.Values{
			"client_id": {"Iv1.test"}, "client_secret": {secret}, "code": {code}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := exchange("wrong", code); got["error"] != "incorrect_client_credentials" {
		t.Errorf("wrong secret: %v", got)
	}
	tok := exchange("client-s3cret", code)
	access, _ := tok["access_token"].(string)
	if !strings.HasPrefix(access, "ghu_") || tok["token_type"] != "bearer" {
		t.Fatalf("token: %v", tok)
	}
	if got := exchange("client-s3cret", code); got["error"] != "bad_verification_code" {
		t.Errorf("a code is good once: %v", got)
	}

	status, _, body := e.raw("GET", "/user", "Bearer "+access, nil)
	var u struct{ Login string }
	if status != 200 || json.Unmarshal(body, &u) != nil || u.Login != "alice" {
		t.Fatalf("GET /user: %d %s", status, body)
	}
	// A user token is not an installation token.
	if status, _, _ := e.raw("POST", "/repos/acme/infra/issues/1/comments", "Bearer "+access, map[string]string{"body": "x"}); status < 400 {
		t.Errorf("user token wrote a comment: %d", status)
	}
	if status, _, _ := e.raw("GET", "/user", "", nil); status != 401 {
		t.Errorf("anonymous /user: %d", status)
	}
	e.offset.Store(int64(11 * time.Minute))
	if status, _, _ := e.raw("GET", "/user", "Bearer "+access, nil); status != 401 {
		t.Errorf("expired user token: %d", status)
	}
}
