package github_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/atollhq/atoll/testdrive/toolscache"
)

// This file checks the conversation between the Client and the emulator
// against GitHub's OpenAPI description: what the Client sends (path,
// query, body) and what it gets back.

var (
	openapiOnce   sync.Once
	openapiRouter routers.Router
	openapiErr    error
)

// loadOpenAPI loads the description once per test binary (about 6 s).
func loadOpenAPI(t *testing.T) routers.Router {
	t.Helper()
	file := toolscache.OpenAPIFile(t)
	openapiOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromFile(file)
		if err != nil {
			openapiErr = fmt.Errorf("load OpenAPI description: %w", err)
			return
		}
		doc.Servers = openapi3.Servers{{URL: "/"}}
		fixDescription(doc)
		openapiRouter, openapiErr = gorillamux.NewRouter(doc)
	})
	if openapiErr != nil {
		t.Fatal(openapiErr)
	}
	return openapiRouter
}

// fixDescription corrects known defects of GitHub's description, which
// real GitHub answers would fail as well.
func fixDescription(doc *openapi3.T) {
	// GET /app/installations inlines "account" as allOf [simple-user,
	// enterprise] (no account is both); components/schemas/installation
	// has the intended anyOf.
	if op := doc.Paths.Find("/app/installations"); op != nil && op.Get != nil {
		if r := op.Get.Responses.Value("200"); r != nil && r.Value != nil {
			if mt := r.Value.Content.Get("application/json"); mt != nil && mt.Schema.Value.Items != nil {
				if acct := mt.Schema.Value.Items.Value.Properties["account"]; acct != nil && len(acct.Value.AllOf) == 2 {
					acct.Value.AnyOf, acct.Value.AllOf = acct.Value.AllOf, nil
				}
			}
		}
	}
}

// recorder keeps a copy of what a handler writes.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Path parameters that may hold slashes, which the router cannot match.
var multiSegment = regexp.MustCompile(`^(/repos/[^/]+/[^/]+/(?:contents|branches))/.+$`)

// validator wraps the emulator's handler: every REST exchange is checked
// against the description. It counts the operations it saw.
type validator struct {
	t       *testing.T
	router  routers.Router
	next    http.Handler
	checked atomic.Int64
	// api counts REST requests by root: "/" or "/api/v3/"; graphql by path.
	root, v3, graphql atomic.Int64
	mu                sync.Mutex
	ops               map[string]bool // "METHOD /path/template"
}

func newValidator(t *testing.T, next http.Handler) *validator {
	return &validator{t: t, router: loadOpenAPI(t), next: next, ops: map[string]bool{}}
}

func (v *validator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/api/v3")
	switch {
	case strings.HasPrefix(p, "/_testdrive/") || strings.Contains(p, ".git/"):
		v.next.ServeHTTP(w, r)
		return
	case p == "/graphql" || p == "/api/graphql":
		v.graphql.Add(1)
		v.next.ServeHTTP(w, r)
		return
	case p != r.URL.Path:
		v.v3.Add(1)
	default:
		v.root.Add(1)
	}
	reqBody, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	rec := &recorder{ResponseWriter: w}
	v.next.ServeHTTP(rec, r)
	if rec.status == http.StatusUnauthorized || rec.status == http.StatusForbidden || rec.status == http.StatusTooManyRequests {
		return // auth and rate-limit answers are the tests' own business
	}
	if err := v.validate(r, p, reqBody, rec); err != nil {
		v.t.Errorf("%s %s -> %d does not match GitHub's OpenAPI description: %v\nrequest: %.1000s\nresponse: %.1000s",
			r.Method, r.URL, rec.status, err, reqBody, rec.body.String())
		return
	}
	v.checked.Add(1)
}

func (v *validator) validate(r *http.Request, path string, reqBody []byte, rec *recorder) error {
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	if m := multiSegment.FindStringSubmatch(path); m != nil {
		path = m[1] + "/x"
	}
	req.URL = &url.URL{Path: path, RawQuery: r.URL.RawQuery}
	req.Host = ""
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no such operation: %w", err)
	}
	v.mu.Lock()
	v.ops[r.Method+" "+route.Path] = true
	v.mu.Unlock()
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.status,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Options:                &openapi3filter.Options{MultiError: true},
	})
}

// operations returns the operations seen, for the log.
func (v *validator) operations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for op := range v.ops {
		out = append(out, op)
	}
	return out
}
