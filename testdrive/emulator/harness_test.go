package emulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/go-github/v60/github"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/atollhq/atoll/testdrive/toolscache"
)

// The test harness: an emulator behind a handler that validates every
// REST response against GitHub's OpenAPI description, and a webhook
// receiver that checks signatures and validates every payload against
// the webhook JSON schemas.

var (
	openapiOnce   sync.Once
	openapiRouter routers.Router
	openapiErr    error

	hookSchemaOnce sync.Once
	hookCompiler   *jsonschema.Compiler
	hookSchemas    sync.Map   // definition -> *jsonschema.Schema
	hookCompileMu  sync.Mutex // the compiler is not safe for concurrent use
	hookSchemaErr  error
)

func loadOpenAPI(t *testing.T) routers.Router {
	t.Helper()
	file := toolscache.OpenAPIFile(t)
	openapiOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(file)
		if err != nil {
			openapiErr = fmt.Errorf("load OpenAPI description: %w", err)
			return
		}
		doc.Servers = openapi3.Servers{{URL: "/"}}
		openapiRouter, openapiErr = gorillamux.NewRouter(doc)
	})
	if openapiErr != nil {
		t.Fatal(openapiErr)
	}
	return openapiRouter
}

// hookSchema compiles the webhook schema's definition for event and
// action (push has none), once.
func hookSchema(t *testing.T, event, action string) *jsonschema.Schema {
	t.Helper()
	file := toolscache.WebhookSchemaFile(t)
	hookSchemaOnce.Do(func() {
		f, err := os.Open(file)
		if err != nil {
			hookSchemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			hookSchemaErr = err
			return
		}
		hookCompiler = jsonschema.NewCompiler()
		hookCompiler.AssertFormat()
		// The library rejects RFC 6570 expansions such as "{/sha}", which
		// GitHub's own examples carry: accept any string there.
		hookCompiler.RegisterFormat(&jsonschema.Format{Name: "uri-template", Validate: func(any) error { return nil }})
		hookSchemaErr = hookCompiler.AddResource("file:///webhooks.json", doc)
	})
	if hookSchemaErr != nil {
		t.Fatalf("load webhook schema: %v", hookSchemaErr)
	}
	def := event + "$" + action
	if action == "" {
		def = event + "$event"
	}
	if sch, ok := hookSchemas.Load(def); ok {
		return sch.(*jsonschema.Schema)
	}
	hookCompileMu.Lock()
	defer hookCompileMu.Unlock()
	if sch, ok := hookSchemas.Load(def); ok {
		return sch.(*jsonschema.Schema)
	}
	sch, err := hookCompiler.Compile("file:///webhooks.json#/definitions/" + url.PathEscape(def))
	if err != nil {
		t.Fatalf("compile webhook schema %s: %v", def, err)
	}
	hookSchemas.Store(def, sch)
	return sch
}

// recordingWriter keeps a copy of what a handler writes.
type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

var protectionPath = regexp.MustCompile(`^(/repos/[^/]+/[^/]+/branches)/[^/]+(/protection/.+)$`)

var multiSegment = regexp.MustCompile(`^(/repos/[^/]+/[^/]+/(?:contents|branches|compare|git/refs))/.+$`)

// validating wraps the emulator: every REST response must match the
// OpenAPI description, and every response carries the rate-limit headers
// and a request id.
func validating(t *testing.T, h http.Handler) http.Handler {
	router := loadOpenAPI(t)
	var checked atomic.Int64
	t.Cleanup(func() { t.Logf("validated %d REST responses against the OpenAPI description", checked.Load()) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.HasPrefix(p, "/_testdrive/") || strings.HasPrefix(p, "/login/oauth/") || isGitPath(p) || manifestPage.MatchString(p) { // web pages, not the API
			h.ServeHTTP(w, r)
			return
		}
		rec := &recordingWriter{ResponseWriter: w}
		reqBody, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		h.ServeHTTP(rec, r)
		if rec.Header().Get("X-GitHub-Request-Id") == "" {
			t.Errorf("%s %s: no X-GitHub-Request-Id", r.Method, p)
		}
		for _, k := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset", "X-RateLimit-Resource"} {
			if rec.Header().Get(k) == "" {
				t.Errorf("%s %s: no %s header", r.Method, p, k)
			}
		}
		if p == "/graphql" || p == "/api/graphql" {
			return
		}
		if err := validateResponse(router, r, reqBody, rec); err != nil {
			t.Errorf("%s %s -> %d does not match GitHub's OpenAPI description: %v\nbody: %.2000s", r.Method, r.URL, rec.status, err, rec.body.String())
			return
		}
		checked.Add(1)
	})
}

func validateResponse(router routers.Router, r *http.Request, reqBody []byte, rec *recordingWriter) error {
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	path := strings.TrimPrefix(req.URL.Path, "/api/v3")
	if m := protectionPath.FindStringSubmatch(path); m != nil {
		path = m[1] + "/x" + m[2] // a branch's protection sub-resource
	} else if m := multiSegment.FindStringSubmatch(path); m != nil {
		path = m[1] + "/x"
	}
	req.URL = &url.URL{Path: path, RawQuery: req.URL.RawQuery}
	req.Host = ""
	route, params, err := router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no such operation in the description: %w", err)
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 rec.status,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Options:                &openapi3filter.Options{MultiError: true},
	})
}

// received is one webhook the test receiver got.
type received struct {
	Event, Delivery string
	Header          http.Header
	Body            []byte
}

// hookReceiver is a webhook endpoint that checks every delivery.
type hookReceiver struct {
	t      *testing.T
	secret string
	fail   atomic.Bool // answer 500
	mu     sync.Mutex
	got    []received
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Hub-Signature-256"))) {
		h.t.Errorf("webhook %s: bad signature", r.Header.Get("X-GitHub-Event"))
	}
	for _, k := range []string{"X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-Type", "X-GitHub-Hook-Installation-Target-ID"} {
		if r.Header.Get(k) == "" {
			h.t.Errorf("webhook: missing header %s", k)
		}
	}
	if !strings.HasPrefix(r.UserAgent(), "GitHub-Hookshot/") {
		h.t.Errorf("webhook user agent %q", r.UserAgent())
	}
	event := r.Header.Get("X-GitHub-Event")
	var head struct {
		Action string `json:"action"`
	}
	_ = json.Unmarshal(body, &head)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		h.t.Errorf("webhook %s: bad JSON: %v", event, err)
	} else if err := hookSchema(h.t, event, head.Action).Validate(inst); err != nil {
		h.t.Errorf("webhook %s.%s does not match webhooks-schema.json: %v\n%.1500s", event, head.Action, err, body)
	}
	h.mu.Lock()
	h.got = append(h.got, received{Event: event, Delivery: r.Header.Get("X-GitHub-Delivery"), Header: r.Header.Clone(), Body: body})
	h.mu.Unlock()
	if h.fail.Load() {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (h *hookReceiver) all() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

// env is one emulator under test with its clients.
type env struct {
	t      *testing.T
	srv    *Server
	http   *httptest.Server
	key    *rsa.PrivateKey
	appID  int64
	ctl    *Control
	hooks  *hookReceiver
	offset atomic.Int64 // added to the emulator's clock, in nanoseconds
}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func appKey(t *testing.T) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return testKey
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, key: appKey(t), appID: 4242}
	e.hooks = &hookReceiver{t: t, secret: "s3cret"}
	hookSrv := httptest.NewServer(e.hooks)
	t.Cleanup(hookSrv.Close)
	srv, err := New(Config{
		AppID: e.appID, AppSlug: "atoll-test", AppPublicKey: &e.key.PublicKey,
		WebhookURL: hookSrv.URL, WebhookSecret: "s3cret", DataDir: t.TempDir(),
		TokenTTL: 5 * time.Minute, ClientID: "Iv1.test", ClientSecret: "client-s3cret", UserTokenTTL: 10 * time.Minute,
		Now: func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.http = httptest.NewServer(validating(t, srv.Handler()))
	t.Cleanup(func() {
		e.http.Close()
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	e.ctl = &Control{BaseURL: e.http.URL}
	return e
}

// flush waits for every webhook to be delivered.
func (e *env) flush() {
	e.t.Helper()
	if err := e.ctl.FlushDeliveries(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// apiBase is the REST root: "/" or, for GitHub Enterprise, "/api/v3/".
func (e *env) apiBase(ghe bool) string {
	if ghe {
		return e.http.URL + "/api/v3/"
	}
	return e.http.URL + "/"
}

// appClient is go-github authenticated as the App (JWT).
func (e *env) appClient(ghe bool) *github.Client {
	tr := ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, e.appID, e.key)
	tr.BaseURL = strings.TrimSuffix(e.apiBase(ghe), "/")
	return withBase(github.NewClient(&http.Client{Transport: tr}), e.apiBase(ghe))
}

// instClient is go-github authenticated as an installation (ghs_ token).
func (e *env) instClient(ghe bool, installationID int64) *github.Client {
	atr := ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, e.appID, e.key)
	tr := ghinstallation.NewFromAppsTransport(atr, installationID)
	tr.BaseURL = strings.TrimSuffix(e.apiBase(ghe), "/")
	return withBase(github.NewClient(&http.Client{Transport: tr}), e.apiBase(ghe))
}

func withBase(c *github.Client, base string) *github.Client {
	u, _ := url.Parse(base)
	c.BaseURL = u
	c.UploadURL = u
	return c
}

// installationID finds the installation of an owner through the API.
func (e *env) installationID(owner, repo string) int64 {
	e.t.Helper()
	inst, _, err := e.appClient(false).Apps.FindRepositoryInstallation(context.Background(), owner, repo)
	if err != nil {
		e.t.Fatalf("find installation: %v", err)
	}
	return inst.GetID()
}

// token issues an installation token through the API.
func (e *env) token(instID int64) string {
	e.t.Helper()
	tok, _, err := e.appClient(false).Apps.CreateInstallationToken(context.Background(), instID, nil)
	if err != nil {
		e.t.Fatalf("create token: %v", err)
	}
	return tok.GetToken()
}

// raw sends one request and returns status, headers and body.
func (e *env) raw(method, path, auth string, body any) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func strp(s string) *string { return &s }
