package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures an emulator.
type Config struct {
	// AppID is the GitHub App's id: the `iss` its JWTs must carry.
	AppID int64
	// AppSlug names the App; its bot user is AppSlug+"[bot]".
	AppSlug string
	// AppPublicKey checks the RS256 signature of the App's JWTs.
	AppPublicKey *rsa.PublicKey
	// WebhookURL receives every webhook; empty records deliveries as failed.
	WebhookURL string
	// WebhookURLs, when set, replace WebhookURL: deliveries go to each in
	// turn (round-robin), as a load balancer in front of several atoll
	// replicas would spread them.
	WebhookURLs []string
	// WebhookSecret signs every webhook (X-Hub-Signature-256).
	WebhookSecret string
	// ClientID and ClientSecret are the App's OAuth credentials for the
	// web flow at /login/oauth/ (empty: the flow refuses every client).
	ClientID, ClientSecret string
	// UserTokenTTL is the lifetime of user-to-server tokens (default 8h,
	// GitHub's).
	UserTokenTTL time.Duration
	// TokenTTL is the lifetime of installation tokens (default 1h).
	TokenTTL time.Duration
	// AnonymousRateLimit is the hourly limit of unauthenticated requests
	// (default 60, GitHub's). A test client that stands for a signed-in
	// user, who would have 5000, may raise it.
	AnonymousRateLimit int
	// RedeliverEach delivers every webhook this many times (default 1):
	// the copies follow the first at once, each under a delivery id of its
	// own, as a second hook or a replaying proxy would send them. (GitHub's
	// own redelivery, with the same id, is the control API's redeliver.)
	// SetRedeliverEach changes it later.
	RedeliverEach int
	// DataDir holds the bare git repositories (required).
	DataDir string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives debug logs (default: discarded).
	Logger *slog.Logger
}

// Server is a running emulator. Create it with New, serve Handler, and
// Close it when done.
type Server struct {
	cfg  Config
	git  string // path of the git binary
	rest *http.ServeMux
	ctl  *http.ServeMux
	log  *slog.Logger

	mu            sync.Mutex
	webhookURLs   []string // round-robin; see Config.WebhookURLs
	webhookNext   int
	nextID        int64
	users         map[string]*user // by lower-case login
	orgs          map[string]*org  // by lower-case login
	installations map[int64]*installation
	repos         map[string]*repo // by lower-case "owner/name"
	tokens        map[string]*token
	comments      map[int64]*comment
	checkRuns     map[int64]*checkRun
	oauthCodes    map[string]oauthCode
	appUser       *user
	appOwner      *user
	created       time.Time
	limits        rateLimits

	hooks webhookQueue
	// app is the App's identity: Config's, until the manifest flow makes
	// a new App (see manifest.go).
	app       atomic.Pointer[appIdentity]
	manifests map[string]*pendingManifest // by code
}

// New starts an emulator. It checks that git is installed and that DataDir
// can be written.
func New(cfg Config) (*Server, error) {
	if cfg.AppID == 0 || cfg.AppSlug == "" || cfg.AppPublicKey == nil {
		return nil, errors.New("emulator: AppID, AppSlug and AppPublicKey are required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("emulator: DataDir is required")
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("emulator: data dir: %w", err)
	}
	cfg.DataDir = abs
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("emulator: create data dir: %w", err)
	}
	gitPath, err := findGit()
	if err != nil {
		return nil, err
	}
	if cfg.AnonymousRateLimit <= 0 {
		cfg.AnonymousRateLimit = anonymousLimit
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.UserTokenTTL <= 0 {
		cfg.UserTokenTTL = 8 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		cfg:           cfg,
		git:           gitPath,
		log:           cfg.Logger,
		webhookURLs:   hookURLs(cfg),
		nextID:        1000,
		users:         map[string]*user{},
		orgs:          map[string]*org{},
		installations: map[int64]*installation{},
		repos:         map[string]*repo{},
		tokens:        map[string]*token{},
		comments:      map[int64]*comment{},
		checkRuns:     map[int64]*checkRun{},
		oauthCodes:    map[string]oauthCode{},
	}
	s.app.Store(&appIdentity{id: cfg.AppID, slug: cfg.AppSlug, name: cfg.AppSlug, key: cfg.AppPublicKey,
		secret: cfg.WebhookSecret, clientID: "Iv1.testdrive" + itoa(cfg.AppID), description: "atoll testdrive App"})
	s.manifests = map[string]*pendingManifest{}
	s.created = s.now()
	s.appOwner = s.userLocked("atoll-testdrive")
	s.appOwner.typ = "Organization"
	s.appUser = s.userLocked(cfg.AppSlug + "[bot]")
	s.appUser.typ = "Bot"
	s.hooks.init(s)
	s.rest = s.restRoutes()
	s.ctl = s.controlRoutes()
	return s, nil
}

// Handler serves everything: REST at "/" and "/api/v3/", GraphQL at POST
// /api/graphql and /graphql, git at /{owner}/{repo}.git/..., and the
// control API at /_testdrive/.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// SetWebhookURL changes where later deliveries (and redeliveries) go.
func (s *Server) SetWebhookURL(url string) { s.SetWebhookURLs(url) }

// SetWebhookURLs has later deliveries (and redeliveries) go to each URL
// in turn, round-robin; none records them as failed.
func (s *Server) SetWebhookURLs(urls ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURLs = nonEmpty(urls)
	s.webhookNext = 0
}

// nextWebhookURL is where the next delivery goes ("" when nowhere).
// Called with s.mu held.
func (s *Server) nextWebhookURL() string {
	if len(s.webhookURLs) == 0 {
		return ""
	}
	u := s.webhookURLs[s.webhookNext%len(s.webhookURLs)]
	s.webhookNext++
	return u
}

func hookURLs(cfg Config) []string {
	if len(cfg.WebhookURLs) > 0 {
		return nonEmpty(cfg.WebhookURLs)
	}
	return nonEmpty([]string{cfg.WebhookURL})
}

func nonEmpty(urls []string) []string {
	var out []string
	for _, u := range urls {
		if u != "" {
			out = append(out, u)
		}
	}
	return out
}

// SetRedeliverEach sets how many times every later webhook is delivered
// (Config.RedeliverEach); n < 1 means once.
func (s *Server) SetRedeliverEach(n int) { s.hooks.setEach(n) }

// Close waits for queued webhook deliveries to finish and stops accepting
// new ones. The bare repositories stay in DataDir.
func (s *Server) Close() error {
	s.hooks.close()
	return nil
}

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

// newID hands out the next object id. Callers hold s.mu.
func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-GitHub-Request-Id", requestID())
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/_testdrive/"):
		s.ctl.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/login/oauth/"):
		s.serveOAuth(w, r)
	case p == "/graphql" || p == "/api/graphql":
		s.serveAPI(w, r, "graphql", "/", s.serveGraphQL)
	case r.Method == http.MethodPost && manifestPage.MatchString(p):
		s.handleNewAppFromManifest(w, r)
	case strings.HasPrefix(p, "/api/v3/") || p == "/api/v3":
		s.serveAPI(w, r, "core", "/api/v3/", s.rest.ServeHTTP)
	case isGitPath(p):
		s.serveGit(w, r)
	default:
		s.serveAPI(w, r, "core", "/", s.rest.ServeHTTP)
	}
}

// serveAPI authenticates the request, applies rate limits, strips the
// /api/v3 prefix, and runs next.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, resource, prefix string, next http.HandlerFunc) {
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	caller, authErr := s.authenticate(r)
	if !s.applyRateLimit(w, caller, resource) {
		return
	}
	if authErr != nil {
		writeError(w, http.StatusUnauthorized, authErr.Error())
		return
	}
	u := urlsFor(r, prefix)
	r2 := r.WithContext(withRequestInfo(r.Context(), caller, u))
	if prefix != "/" {
		r2.URL.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/api/v3"), "/")
		r2.URL.RawPath = ""
	}
	next(w, r2)
}

func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:4] + ":" + h[4:8] + ":" + h[8:12] + ":" + h[12:16]
}

// newGUID returns a random version 4 UUID, as X-GitHub-Delivery carries.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
