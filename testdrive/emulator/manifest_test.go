package emulator

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// The manifest flow: the new-App page redirects with a code, the
// conversion (checked against GitHub's OpenAPI description) hands out a
// new App whose key authenticates, and a code works once.
func TestManifestFlow(t *testing.T) {
	e := newEnv(t)
	manifest := `{"name":"Atoll Prod","url":"https://atoll.example","hook_attributes":{"url":"https://atoll.example/events"},
"redirect_url":"http://127.0.0.1:9/done","default_permissions":{"checks":"write","contents":"write"},"default_events":["push"]}`
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(e.http.URL+"/organizations/acme/settings/apps/new?state=xyz", url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Host != "127.0.0.1:9" || loc.Query().Get("state") != "xyz" || loc.Query().Get("code") == "" {
		t.Fatalf("new-app page: %d to %q, want 302 to the redirect_url with code and state", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")

	status, _, body := e.raw("POST", "/app-manifests/"+code+"/conversions", "", nil)
	if status != http.StatusCreated {
		t.Fatalf("conversion: %d %s", status, body)
	}
	var app struct {
		ID            int64             `json:"id"`
		Slug          string            `json:"slug"`
		ClientID      string            `json:"client_id"`
		ClientSecret  string            `json:"client_secret"`
		WebhookSecret string            `json:"webhook_secret"`
		PEM           string            `json:"pem"`
		Permissions   map[string]string `json:"permissions"`
		Events        []string          `json:"events"`
	}
	if err := json.Unmarshal(body, &app); err != nil {
		t.Fatal(err)
	}
	if app.Slug != "atoll-prod" || app.ID == e.appID || app.ClientSecret == "" || app.WebhookSecret == "" ||
		app.Permissions["checks"] != "write" || strings.Join(app.Events, ",") != "push" {
		t.Errorf("converted App: %+v", app)
	}
	block, _ := pem.Decode([]byte(app.PEM))
	if block == nil {
		t.Fatalf("pem: %q", app.PEM)
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	tr := ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, app.ID, key)
	tr.BaseURL = strings.TrimSuffix(e.http.URL, "/")
	got, _, err := withBase(github.NewClient(&http.Client{Transport: tr}), e.http.URL+"/").Apps.Get(context.Background(), "")
	if err != nil || got.GetSlug() != "atoll-prod" {
		t.Errorf("GET /app with the new key: %v, %v", got, err)
	}
	if status, _, _ := e.raw("GET", "/app", "", nil); status != http.StatusUnauthorized {
		t.Errorf("GET /app without a JWT: %d", status)
	}
	if status, _, _ := e.raw("POST", "/app-manifests/"+code+"/conversions", "", nil); status != http.StatusNotFound {
		t.Errorf("second conversion of one code: %d, want 404", status)
	}
}
