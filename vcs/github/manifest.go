package github

import (
	"context"
	"errors"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// AppPermissions are the repository and organization permissions atoll's
// App needs (the README's "GitHub App" section says why, one by one).
var AppPermissions = map[string]string{
	"contents":      "write",
	"pull_requests": "write",
	"issues":        "write",
	"checks":        "write",
	"metadata":      "read",
	"members":       "read",
}

// AppEvents are the webhook events atoll's App subscribes to. GitHub
// sends installation, installation_repositories and ping to every App
// without a subscription.
var AppEvents = []string{"pull_request", "pull_request_review", "issue_comment", "push"}

// Manifest is a GitHub App manifest (GitHub's "Registering a GitHub App
// from a manifest"): the App atoll needs, its webhook at atollURL/events.
type Manifest struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	Description    string `json:"description"`
	HookAttributes struct {
		URL    string `json:"url"`
		Active bool   `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url"`
	CallbackURLs       []string          `json:"callback_urls"`
	SetupURL           string            `json:"setup_url"`
	SetupOnUpdate      bool              `json:"setup_on_update"`
	Public             bool              `json:"public"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

// NewManifest is the manifest of an App named name served at atollURL;
// GitHub sends the browser back to redirectURL with the code to convert.
// The callback URL is where GitHub sends users signing in through the
// App; the setup URL is atoll's home page, shown after an installation.
func NewManifest(name, atollURL, redirectURL string) Manifest {
	base := strings.TrimRight(atollURL, "/")
	m := Manifest{Name: name, URL: base, RedirectURL: redirectURL,
		Description:  "GitOps for Terraform and OpenTofu: plans pull requests, applies on comment or merge, checks drift.",
		CallbackURLs: []string{base + "/auth/callback"}, SetupURL: base + "/",
		DefaultPermissions: AppPermissions, DefaultEvents: AppEvents}
	m.HookAttributes.URL, m.HookAttributes.Active = base+"/events", true
	return m
}

// AppCredentials are what GitHub hands out once for a new App.
type AppCredentials struct {
	ID            int64
	Slug          string
	ClientID      string
	ClientSecret  string
	WebhookSecret string
	PrivateKeyPEM string
	HTMLURL       string
}

// ConvertManifest exchanges the code GitHub's manifest flow returned for
// the new App's credentials (POST /app-manifests/{code}/conversions,
// unauthenticated; a code works once, within an hour).
func ConvertManifest(ctx context.Context, apiURL, code string, hc *http.Client) (AppCredentials, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	client, err := gh.NewClient(hc).WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return AppCredentials{}, err
	}
	// WithEnterpriseURLs adds /api/v3/ to a root URL; keep it as given.
	client.BaseURL, _ = client.BaseURL.Parse(apiURL)
	cfg, _, err := client.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		return AppCredentials{}, wrapErr("convert the App manifest", err)
	}
	c := AppCredentials{ID: cfg.GetID(), Slug: cfg.GetSlug(), ClientID: cfg.GetClientID(),
		ClientSecret: cfg.GetClientSecret(), WebhookSecret: cfg.GetWebhookSecret(), PrivateKeyPEM: cfg.GetPEM(),
		HTMLURL: cfg.GetHTMLURL()}
	if c.ID == 0 || c.PrivateKeyPEM == "" || c.WebhookSecret == "" {
		return c, errors.New("convert the App manifest: GitHub's answer lacks the App id, key or webhook secret")
	}
	return c, nil
}
