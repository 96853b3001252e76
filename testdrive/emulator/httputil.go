package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const docsURL = "https://docs.github.com/rest"

// urls are the bases the JSON of one request points at: api ends with "/"
// ("http://host/" or "http://host/api/v3/"), web is "http://host".
type urls struct {
	api string
	web string
}

func urlsFor(r *http.Request, prefix string) urls {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	web := scheme + "://" + r.Host
	if prefix == "" {
		prefix = "/"
	}
	return urls{api: web + prefix, web: web}
}

type ctxKey int

const (
	callerKey ctxKey = iota
	urlsKey
)

func withRequestInfo(ctx context.Context, c caller, u urls) context.Context {
	ctx = context.WithValue(ctx, callerKey, c)
	return context.WithValue(ctx, urlsKey, u)
}

func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey).(caller)
	return c
}

func urlsOf(r *http.Request) urls {
	if u, ok := r.Context().Value(urlsKey).(urls); ok {
		return u
	}
	return urlsFor(r, "/")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "emulator: marshal: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError sends GitHub's basic error body.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{
		"message":           msg,
		"documentation_url": docsURL,
		"status":            strconv.Itoa(status),
	})
}

func notFound(w http.ResponseWriter) { writeError(w, http.StatusNotFound, "Not Found") }

// fieldError is one entry of a 422 Validation Failed body.
type fieldError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field"`
	Message  string `json:"message,omitempty"`
}

// writeValidation sends 422 with GitHub's Validation Failed body.
func writeValidation(w http.ResponseWriter, errs ...fieldError) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            errs,
		"documentation_url": docsURL,
		"status":            "422",
	})
}

// decodeBody reads a JSON body into v; an empty body leaves v alone. A bad
// body gets GitHub's 400 "Problems parsing JSON" and false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 50<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return true
	}
	if err := json.Unmarshal(b, v); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

// pathInt parses a numeric path value; false after sending 404.
func pathInt(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		notFound(w)
		return 0, false
	}
	return n, true
}

// page is the pagination of one list request.
type page struct {
	perPage, page int
}

func pageOf(r *http.Request) page {
	p := page{perPage: 30, page: 1}
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		p.perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		p.page = v
	}
	return p
}

// paginate returns the window [lo, hi) of a list of total items and sets
// the Link header (next, last, first, prev) as GitHub does.
func paginate[T any](w http.ResponseWriter, r *http.Request, items []T) []T {
	p := pageOf(r)
	total := len(items)
	last := max(1, (total+p.perPage-1)/p.perPage)
	link := func(n int) string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("per_page", strconv.Itoa(p.perPage))
		u.RawQuery = q.Encode()
		base := urlsOf(r).api
		return fmt.Sprintf("<%s%s?%s>", strings.TrimSuffix(base, "/"), u.Path, u.RawQuery)
	}
	var links []string
	if p.page < last {
		links = append(links, link(p.page+1)+`; rel="next"`, link(last)+`; rel="last"`)
	}
	if p.page > 1 {
		links = append(links, link(1)+`; rel="first"`, link(min(p.page-1, last))+`; rel="prev"`)
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := (p.page - 1) * p.perPage
	if lo >= total {
		return []T{}
	}
	return items[lo:min(total, lo+p.perPage)]
}

// escapePath escapes each segment of a slash-separated path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
