package github

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
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"

	"github.com/atollhq/atoll/vcs"
)

const testAppID = 1234

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
	testPEM []byte
)

// appKey returns one RSA key per test binary (generating one is slow).
func appKey(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
		testPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	return testKey, testPEM
}

// fakeGitHub is a small GitHub for unit tests: it issues installation
// tokens for a valid App JWT and checks them on every other request. Each
// test registers the handlers it needs on mux.
type fakeGitHub struct {
	t      *testing.T
	mux    *http.ServeMux
	srv    *httptest.Server
	key    *rsa.PrivateKey
	prefix string // "" or "/api/v3"

	mu           sync.Mutex
	tokens       map[string]int64 // token -> installation
	tokenTTL     time.Duration
	issued       int
	installation map[string]int64 // "owner/name" -> installation
	lookups      int
}

// setup returns a Client pointed at a fresh fakeGitHub and the fake.
func setup(t *testing.T) (*Client, *fakeGitHub) {
	t.Helper()
	return setupWith(t, "", nil)
}

func setupWith(t *testing.T, prefix string, mutate func(*Config)) (*Client, *fakeGitHub) {
	t.Helper()
	key, pemKey := appKey(t)
	f := &fakeGitHub{
		t: t, mux: http.NewServeMux(), key: key, prefix: prefix,
		tokens: map[string]int64{}, tokenTTL: time.Hour,
		installation: map[string]int64{"octo/infra": 42},
	}
	f.mux.HandleFunc("POST "+prefix+"/app/installations/{id}/access_tokens", f.accessToken)
	f.mux.HandleFunc("GET "+prefix+"/repos/{owner}/{repo}/installation", f.repoInstallation)
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	cfg := Config{
		AppID: testAppID, PrivateKeyPEM: pemKey,
		APIURL:           f.srv.URL + prefix + "/",
		Logger:           slog.New(slog.NewTextHandler(&testWriter{t: t}, nil)),
		MaxRateLimitWait: 50 * time.Millisecond,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

// ServeHTTP checks the credential a path needs, then serves from mux.
func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, f.prefix)
	appCall := strings.HasPrefix(path, "/app") || (strings.HasPrefix(path, "/repos/") && strings.HasSuffix(path, "/installation"))
	if appCall {
		if err := f.checkJWT(r); err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": err.Error()})
			return
		}
	} else {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
		f.mu.Lock()
		_, valid := f.tokens[tok]
		f.mu.Unlock()
		if !ok || !valid {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
	}
	f.mux.ServeHTTP(w, r)
}

func (f *fakeGitHub) checkJWT(r *http.Request) error {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return errors.New("no bearer token")
	}
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
		if tok.Method != jwt.SigningMethodRS256 {
			return nil, errors.New("not RS256")
		}
		return &f.key.PublicKey, nil
	})
	if err != nil {
		return err
	}
	if claims.Issuer != strconv.Itoa(testAppID) {
		return fmt.Errorf("iss %q", claims.Issuer)
	}
	if claims.ExpiresAt.Sub(claims.IssuedAt.Time) > 10*time.Minute {
		return errors.New("exp more than 10 minutes after iat")
	}
	return nil
}

func (f *fakeGitHub) accessToken(w http.ResponseWriter, r *http.Request) {
	// GitHub's description allows an object or no body, not "null": {}
	// for the installation's token, or a git token's narrowing.
	b, _ := io.ReadAll(r.Body)
	var opts map[string]any
	if err := json.Unmarshal(b, &opts); err != nil || opts == nil {
		f.t.Errorf("access token request body = %q, want an object", b)
	}
	if len(opts) > 0 && !regexp.MustCompile(`^\{"repositories":\["[^"]+"\],"permissions":\{"contents":"read"\}\}$`).Match(bytes.TrimSpace(b)) {
		f.t.Errorf("access token request body = %q, want {} or one repository with contents: read", b)
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	f.issued++
	tok := fmt.Sprintf("ghs_test%d_%d", id, f.issued)
	f.tokens[tok] = id
	ttl := f.tokenTTL
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": time.Now().Add(ttl).UTC().Format(time.RFC3339)})
}

func (f *fakeGitHub) repoInstallation(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.lookups++
	id, ok := f.installation[r.PathValue("owner")+"/"+r.PathValue("repo")]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "app_id": testAppID})
}

// revokeAll makes every issued token invalid, as an expiry would.
func (f *fakeGitHub) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

func (f *fakeGitHub) counts() (issued, lookups int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued, f.lookups
}

func (f *fakeGitHub) handle(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	f.mux.HandleFunc(method+" "+f.prefix+path, h)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// testWriter sends log output to t.Log and keeps it for inspection.
type testWriter struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

var testRepo = vcs.Repo{Owner: "octo", Name: "infra"}

func TestNewChecksConfig(t *testing.T) {
	_, pemKey := appKey(t)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no app id", Config{PrivateKeyPEM: pemKey}, "AppID"},
		{"no key", Config{AppID: 1}, "PrivateKeyPEM"},
		{"bad key", Config{AppID: 1, PrivateKeyPEM: []byte("nope")}, "private key"},
		{"bad url", Config{AppID: 1, PrivateKeyPEM: pemKey, APIURL: "not a url"}, "APIURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestResolveURLs(t *testing.T) {
	tests := []struct {
		api, graphql       string
		wantAPI, wantGraph string
	}{
		{"", "", "https://api.github.com/", "https://api.github.com/graphql"},
		{"https://ghe.example/api/v3", "", "https://ghe.example/api/v3/", "https://ghe.example/api/graphql"},
		{"http://127.0.0.1:8080/", "", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/graphql"},
		{"http://127.0.0.1:8080/", "http://gql.example/q", "http://127.0.0.1:8080/", "http://gql.example/q"},
	}
	for _, tt := range tests {
		t.Run(tt.api, func(t *testing.T) {
			api, g, err := resolveURLs(tt.api, tt.graphql)
			if err != nil || api != tt.wantAPI || g != tt.wantGraph {
				t.Fatalf("resolveURLs(%q, %q) = %q, %q, %v; want %q, %q", tt.api, tt.graphql, api, g, err, tt.wantAPI, tt.wantGraph)
			}
		})
	}
}

func TestAppSlugUsesJWT(t *testing.T) {
	c, f := setup(t)
	calls := 0
	f.handle("GET /app", func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, 200, map[string]any{"id": testAppID, "slug": "atoll-test"})
	})
	for range 2 {
		slug, err := c.AppSlug(context.Background())
		if err != nil || slug != "atoll-test" {
			t.Fatalf("AppSlug() = %q, %v", slug, err)
		}
	}
	if calls != 1 {
		t.Errorf("GET /app called %d times, want 1 (cached)", calls)
	}
}

// TestEnterpriseURL: go-github and ghinstallation both use /api/v3/.
func TestEnterpriseURL(t *testing.T) {
	c, f := setupWith(t, "/api/v3", nil)
	f.handle("GET /repos/octo/infra", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"name": "infra", "owner": map[string]any{"login": "octo"}, "default_branch": "main"})
	})
	repo, err := c.GetRepo(context.Background(), testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if repo.DefaultBranch != "main" || repo.InstallationID != 42 {
		t.Errorf("GetRepo() = %+v", repo)
	}
	if issued, _ := f.counts(); issued != 1 {
		t.Errorf("tokens issued under /api/v3 = %d, want 1", issued)
	}
}

func TestListInstallationsAndRepos(t *testing.T) {
	c, f := setup(t)
	f.handle("GET /app/installations", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("per_page") != "100" {
			t.Errorf("per_page = %q", r.URL.Query().Get("per_page"))
		}
		if r.URL.Query().Get("page") == "2" {
			writeJSON(w, 200, []map[string]any{{"id": 7}})
			return
		}
		w.Header().Set("Link", fmt.Sprintf(`<%s/app/installations?per_page=100&page=2>; rel="next"`, f.srv.URL))
		writeJSON(w, 200, []map[string]any{{"id": 42}, {"id": 43}})
	})
	f.handle("GET /installation/repositories", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"total_count": 1, "repositories": []map[string]any{
			{"name": "net", "full_name": "acme/net", "owner": map[string]any{"login": "acme"}, "default_branch": "trunk", "private": true},
		}})
	})
	ids, err := c.ListInstallations(context.Background())
	if err != nil || fmt.Sprint(ids) != "[42 43 7]" {
		t.Fatalf("ListInstallations() = %v, %v", ids, err)
	}
	repos, err := c.ListInstallationRepos(context.Background(), 7)
	if err != nil {
		t.Fatal(err)
	}
	want := vcs.Repo{Owner: "acme", Name: "net", DefaultBranch: "trunk", Private: true, InstallationID: 7}
	if len(repos) != 1 || repos[0] != want {
		t.Fatalf("ListInstallationRepos() = %+v, want [%+v]", repos, want)
	}
	// The repository's installation is now known: no lookup needed.
	if _, err := c.Token(context.Background(), vcs.Repo{Owner: "acme", Name: "net"}); err != nil {
		t.Fatal(err)
	}
	if _, lookups := f.counts(); lookups != 0 {
		t.Errorf("installation lookups = %d, want 0", lookups)
	}
}

func TestTokenPerRepositoryCached(t *testing.T) {
	c, f := setup(t)
	f.installation["acme/net"] = 43
	ctx := context.Background()
	t1, err := c.Token(ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := c.Token(ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if t1 != t2 {
		t.Errorf("token not cached: %q then %q", t1, t2)
	}
	t3, err := c.Token(ctx, vcs.Repo{Owner: "acme", Name: "net"})
	if err != nil {
		t.Fatal(err)
	}
	if t3 == t1 || !strings.HasPrefix(t3, "ghs_test43_") {
		t.Errorf("second installation's token = %q", t3)
	}
	// InstallationID set on the repo: no lookup.
	if _, err := c.Token(ctx, vcs.Repo{Owner: "x", Name: "y", InstallationID: 42}); err != nil {
		t.Fatal(err)
	}
	// One narrowed token per repository.
	if issued, lookups := f.counts(); issued != 3 || lookups != 2 {
		t.Errorf("issued %d tokens and made %d lookups, want 3 and 2", issued, lookups)
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	c, f := setup(t)
	f.tokenTTL = 3 * time.Minute // under the 5 minutes Token wants left
	ctx := context.Background()
	t1, err := c.Token(ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := c.Token(ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if t1 == t2 {
		t.Errorf("a token with 3 minutes left was handed out again")
	}
}

func TestUnknownRepoInstallation(t *testing.T) {
	c, _ := setup(t)
	_, err := c.Token(context.Background(), vcs.Repo{Owner: "nobody", Name: "nothing"})
	if !errors.Is(err, vcs.ErrNotFound) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Token() error = %v, want ErrNotFound", err)
	}
}

// TestExpiredTokenRefreshed: GitHub rejects a token the client still
// believes valid (expired early, revoked); the client gets a new one and
// replays the request, body included.
func TestExpiredTokenRefreshed(t *testing.T) {
	c, f := setup(t)
	var bodies []string
	f.handle("POST /repos/octo/infra/issues/5/comments", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		bodies = append(bodies, in["body"])
		writeJSON(w, 201, map[string]any{"id": 99, "body": in["body"]})
	})
	ctx := context.Background()
	if _, err := c.CreateComment(ctx, testRepo, 5, "one"); err != nil {
		t.Fatal(err)
	}
	f.revokeAll()
	if _, err := c.CreateComment(ctx, testRepo, 5, "two"); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if issued, _ := f.counts(); issued != 2 {
		t.Errorf("issued %d tokens, want 2", issued)
	}
	if fmt.Sprint(bodies) != "[one two]" {
		t.Errorf("bodies = %v", bodies)
	}
}

func TestNoTokenInLogs(t *testing.T) {
	w := &testWriter{t: t}
	c, f := setupWith(t, "", func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	f.handle("GET /repos/octo/infra", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"name": "infra", "owner": map[string]any{"login": "octo"}})
	})
	ctx := context.Background()
	tok, err := c.Token(ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRepo(ctx, testRepo); err != nil { // mints the installation's token
		t.Fatal(err)
	}
	f.revokeAll() // forces the "token rejected" log line
	if _, err := c.GetRepo(ctx, testRepo); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(w.buf.String(), "ghs_") || strings.Contains(w.buf.String(), tok) {
		t.Errorf("a token is in the log:\n%s", w.buf.String())
	}
	if !strings.Contains(w.buf.String(), "token rejected") {
		t.Errorf("no log line about the rejected token:\n%s", w.buf.String())
	}
}
