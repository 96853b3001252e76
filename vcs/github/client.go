// Package github is atoll's GitHub App client: App authentication (a JWT for
// /app calls, one installation token per installation, cached and refreshed
// before it expires), the REST and GraphQL calls atoll makes, rate-limit
// backoff, and webhook signature checks and parsing into the neutral events
// of package vcs.
//
// A Client serves any number of installations. Every repository call
// resolves the repository's installation: vcs.Repo.InstallationID when set,
// else a cached answer, else GET /repos/{owner}/{repo}/installation made with
// the App JWT. Errors for a missing resource wrap ErrNotFound, which wraps
// vcs.ErrNotFound. Tokens never appear in a log line or an error.
package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/vcs"
)

// DefaultAPIURL is github.com's REST API.
const DefaultAPIURL = "https://api.github.com/"

// DefaultMaxRateLimitWait caps one wait for a rate limit.
const DefaultMaxRateLimitWait = 15 * time.Minute

// perPage is the page size of every list call (GitHub's maximum).
const perPage = 100

// maxPages stops a list that never ends (a server bug) from looping forever.
const maxPages = 1000

// Sentinel errors. Errors returned by a Client wrap them; test with errors.Is.
var (
	// ErrNotFound: the resource does not exist or the installation cannot
	// see it (HTTP 404). It wraps vcs.ErrNotFound.
	ErrNotFound = fmt.Errorf("github: %w", vcs.ErrNotFound)
	// ErrNotMergeable: GitHub refused a merge (HTTP 405).
	ErrNotMergeable = errors.New("github: pull request is not mergeable")
	// ErrHeadChanged: a merge's sha guard did not match the PR head (HTTP 409).
	ErrHeadChanged = errors.New("github: pull request head changed")
	// ErrBadSignature: a webhook's X-Hub-Signature-256 is missing, garbled
	// or wrong.
	ErrBadSignature = errors.New("github: bad webhook signature")
	// ErrUnknownEvent: a webhook event atoll does not handle.
	ErrUnknownEvent = errors.New("github: unknown webhook event")
)

// Config configures a Client.
type Config struct {
	// AppID and PrivateKeyPEM are the GitHub App's id and its RSA private
	// key (PEM). Both are required.
	AppID         int64
	PrivateKeyPEM []byte
	// APIURL is the REST API root: "https://api.github.com/" (default) or,
	// for GitHub Enterprise Server, "https://ghe.example/api/v3/".
	APIURL string
	// GraphQLURL defaults to APIURL + "graphql" for a root API URL and to
	// host + "/api/graphql" for an ".../api/v3/" URL.
	GraphQLURL string
	// HTTPClient's Transport carries every request (default
	// http.DefaultTransport). Its Timeout is not used: a call may wait out a
	// rate limit, so bound calls with their context instead.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Now is the clock for JWTs, token lifetimes and rate-limit resets
	// (default time.Now).
	Now func() time.Time
	// MaxRateLimitWait caps one wait for a rate limit (default 15m).
	MaxRateLimitWait time.Duration
	// Observer, when set, is told about every answer (metrics).
	Observer RequestObserver
	// Mask, when set, is applied to every text the Client writes to
	// GitHub: comment bodies, issue titles and bodies, check run titles,
	// summaries and texts. atoll passes its one masker (runner/mask).
	Mask func(string) string
	// Secret, when set, is called with every installation token as it is
	// minted, before it is used, so that it can be masked.
	Secret func(string)
}

// Client talks to GitHub as a GitHub App. It is safe for concurrent use.
type Client struct {
	appID      int64
	apiURL     string // with a trailing slash
	graphqlURL string
	base       http.RoundTripper
	log        *slog.Logger
	now        func() time.Time
	maxWait    time.Duration
	mask       func(string) string
	secret     func(string)
	signer     *jwtSigner
	app        *restClients // authenticated with the App JWT

	mu       sync.Mutex
	insts    map[int64]*installation
	repoInst map[string]int64 // lower-case "owner/name" -> installation id
	slug     string

	lastAnswer atomic.Int64 // see LastAnswer
}

// New checks cfg and returns a Client. It makes no request.
func New(cfg Config) (*Client, error) {
	if cfg.AppID == 0 {
		return nil, errors.New("github: AppID is required")
	}
	if len(cfg.PrivateKeyPEM) == 0 {
		return nil, errors.New("github: PrivateKeyPEM is required")
	}
	c := &Client{
		appID:    cfg.AppID,
		log:      cfg.Logger,
		now:      cfg.Now,
		maxWait:  cfg.MaxRateLimitWait,
		mask:     cfg.Mask,
		secret:   cfg.Secret,
		insts:    make(map[int64]*installation),
		repoInst: make(map[string]int64),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.mask == nil {
		c.mask = func(s string) string { return s }
	}
	if c.secret == nil {
		c.secret = func(string) {}
	}
	if c.maxWait <= 0 {
		c.maxWait = DefaultMaxRateLimitWait
	}
	c.base = http.DefaultTransport
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		c.base = cfg.HTTPClient.Transport
	}
	c.base = &observingTransport{next: c.base, obs: cfg.Observer, now: c.now, last: &c.lastAnswer}
	var err error
	if c.apiURL, c.graphqlURL, err = resolveURLs(cfg.APIURL, cfg.GraphQLURL); err != nil {
		return nil, err
	}
	if c.signer, err = newJWTSigner(cfg.PrivateKeyPEM, c.appID, c.now); err != nil {
		return nil, err
	}
	atr, err := c.newAppsTransport(c.newRateLimiter("app"))
	if err != nil {
		return nil, err
	}
	if c.app, err = c.newRESTClients(atr); err != nil {
		return nil, err
	}
	return c, nil
}

// appAPI returns a go-github client authenticated with the App JWT, for
// one request (see restClients).
func (c *Client) appAPI() *gh.Client {
	return c.app.client()
}

// resolveURLs normalises the API URL and derives the GraphQL URL.
func resolveURLs(apiURL, graphqlURL string) (api, graphql string, err error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", "", fmt.Errorf("github: APIURL %q is not an absolute URL", apiURL)
	}
	if graphqlURL == "" {
		g := *u
		if strings.HasSuffix(u.Path, "/api/v3/") {
			g.Path = strings.TrimSuffix(u.Path, "v3/") + "graphql"
		} else {
			g.Path = u.Path + "graphql"
		}
		graphqlURL = g.String()
	}
	return apiURL, graphqlURL, nil
}

// isEnterprise reports whether the API URL is a GitHub Enterprise Server one.
func (c *Client) isEnterprise() bool {
	return strings.HasSuffix(c.apiURL, "/api/v3/")
}

// restClients makes the go-github clients of one credential: all share
// its transport and the configured API URLs.
//
// Every request gets a fresh *gh.Client, on purpose: it is how go-github
// v60 is kept from refusing requests on its own. v60 keeps rate-limit
// bookkeeping per Client (the last answer's X-RateLimit-* per category, and
// the end of a secondary limit it handed up as an error) and, in
// BareDo's checkRateLimitBeforeDo and checkSecondaryRateLimitBeforeDo,
// fails a request without sending it while that bookkeeping says the
// budget is spent. It has no option to turn this off (later versions have
// WithDisableRateLimitCheck) and its bypass context key is unexported. The
// refusal would defeat rateLimitTransport, which waits for the reset
// instead, on the Client's clock. A Client that has made no request has no
// bookkeeping, so it never refuses. Hiding X-RateLimit-Remaining from
// go-github in the transport would avoid the refusal too, but would also
// turn a rate-limit answer handed up after the last retry into a plain
// ErrorResponse instead of a *gh.RateLimitError. A gh.Client is a small
// struct of pointers: making one costs nothing next to the request.
type restClients struct {
	http *http.Client
	// apiHost refuses requests to any host but the API's (see apiHostOnly).
	apiHost *http.Client
	base    url.URL
	upload  url.URL
}

// newRESTClients returns the go-github clients over tr, pointed at the
// configured API URL.
func (c *Client) newRESTClients(tr http.RoundTripper) (*restClients, error) {
	g := gh.NewClient(nil)
	if c.isEnterprise() {
		upload := strings.TrimSuffix(c.apiURL, "v3/") + "uploads/"
		var err error
		if g, err = g.WithEnterpriseURLs(c.apiURL, upload); err != nil {
			return nil, fmt.Errorf("github: client for %s: %w", c.apiURL, err)
		}
	} else {
		u, err := url.Parse(c.apiURL) // checked by resolveURLs, ends in "/"
		if err != nil {
			return nil, fmt.Errorf("github: client for %s: %w", c.apiURL, err)
		}
		g.BaseURL, g.UploadURL = u, u
	}
	return &restClients{
		http:    &http.Client{Transport: tr},
		apiHost: &http.Client{Transport: apiHostOnly{host: g.BaseURL.Host, next: tr}},
		base:    *g.BaseURL,
		upload:  *g.UploadURL,
	}, nil
}

// client returns a new go-github client, for one request: it has seen no
// rate-limit header, so go-github sends the request whatever earlier
// answers said.
func (r *restClients) client() *gh.Client {
	return r.newClient(r.http)
}

// apiHostClient is client for a call that may follow a redirect outside
// http.Client (GetBranch): it refuses to send to any host but the API's.
func (r *restClients) apiHostClient() *gh.Client {
	return r.newClient(r.apiHost)
}

func (r *restClients) newClient(hc *http.Client) *gh.Client {
	g := gh.NewClient(hc)
	base, upload := r.base, r.upload
	g.BaseURL, g.UploadURL = &base, &upload
	g.UserAgent = "atoll"
	return g
}

// apiHostOnly refuses a request to a host other than the API's. go-github
// v60's GetBranch follows a 301 to wherever its Location points, through
// the transport, which attaches the credential; later versions refuse a
// cross-host Location (checkRedirectHost), and so does this.
type apiHostOnly struct {
	host string
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t apiHostOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host {
		closeBody(req)
		return nil, fmt.Errorf("refusing to follow cross-host redirect from %q to %q", t.host, req.URL.Host)
	}
	return t.next.RoundTrip(req)
}

// newAppsTransport returns a ghinstallation App transport (JWT) over next,
// pointed at the configured API URL.
func (c *Client) newAppsTransport(next http.RoundTripper) (*ghinstallation.AppsTransport, error) {
	atr, err := ghinstallation.NewAppsTransportWithOptions(next, c.appID, ghinstallation.WithSigner(c.signer))
	if err != nil {
		return nil, fmt.Errorf("github: app transport: %w", err)
	}
	atr.BaseURL = strings.TrimSuffix(c.apiURL, "/")
	return atr, nil
}

func (c *Client) newRateLimiter(who string) *rateLimitTransport {
	return &rateLimitTransport{
		next:    c.base,
		now:     c.now,
		maxWait: c.maxWait,
		log:     c.log.With("credential", who),
	}
}

// wrapErr names the operation and maps HTTP statuses to sentinel errors.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	switch statusOf(err) {
	case http.StatusNotFound:
		return fmt.Errorf("%s: %w: %w", op, ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// statusOf returns the HTTP status of a go-github error, or 0.
func statusOf(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response.StatusCode
	}
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &ab) && ab.Response != nil {
		return ab.Response.StatusCode
	}
	return 0
}

// checkTraversal refuses, with gh.ErrPathForbidden, a value that would put
// a ".." segment into a request path. go-github v60 resolves such a
// segment away (NewRequest parses the path against the API URL), so a
// label or slug "../x" would reach another endpoint with the installation's
// token;
// later go-github versions refuse such paths, and so does this package.
// Call it with each value put into a path unescaped (or as escaped).
func checkTraversal(values ...string) error {
	for _, v := range values {
		if slices.Contains(strings.Split(v, "/"), "..") {
			return gh.ErrPathForbidden
		}
	}
	return nil
}

// paginate calls list for page 1, 2, ... (100 per page) until GitHub says
// there is no next page, and returns every item.
func paginate[T any](ctx context.Context, list func(opts gh.ListOptions) ([]T, *gh.Response, error)) ([]T, error) {
	var all []T
	opts := gh.ListOptions{PerPage: perPage, Page: 1}
	for range maxPages {
		items, resp, err := list(opts)
		if err != nil {
			return all, err
		}
		all = append(all, items...)
		if resp == nil || resp.NextPage == 0 {
			return all, nil
		}
		if err := ctx.Err(); err != nil {
			return all, err
		}
		opts.Page = resp.NextPage
	}
	return all, fmt.Errorf("more than %d pages", maxPages)
}

func repoKey(owner, name string) string {
	return strings.ToLower(owner + "/" + name)
}

// deref returns *p or the zero value.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
