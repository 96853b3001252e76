package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Primary limits per hour, as GitHub grants them.
const (
	installationLimit = 5000
	anonymousLimit    = 60
)

const (
	primaryLimitDocs   = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
	secondaryLimitDocs = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)

// rateLimits counts requests per caller and holds the failures a test asked
// for. Guarded by Server.mu.
type rateLimits struct {
	windows map[string]*rateWindow
	forced  []forcedLimit
}

type rateWindow struct {
	used  int
	reset time.Time
}

// forcedLimit makes the next count API requests fail.
type forcedLimit struct {
	count      int
	status     int
	retryAfter int
	remaining  int
	resetIn    int
}

func rateKey(c caller, resource string) (string, int) {
	switch c.kind {
	case installationToken:
		return fmt.Sprintf("%s:inst:%d", resource, c.inst.id), installationLimit
	case appJWT:
		return resource + ":app", installationLimit
	case userToken:
		return resource + ":user:" + c.user.login, installationLimit
	}
	return resource + ":anonymous", anonymousLimit
}

// applyRateLimit counts the request and sets the x-ratelimit-* headers. It
// sends the error and returns false when the caller is over its limit or a
// forced failure is pending.
func (s *Server) applyRateLimit(w http.ResponseWriter, c caller, resource string) bool {
	s.mu.Lock()
	now := s.now()
	if len(s.limits.forced) > 0 {
		f := &s.limits.forced[0]
		f.count--
		ff := *f
		if f.count <= 0 {
			s.limits.forced = s.limits.forced[1:]
		}
		s.mu.Unlock()
		return s.sendForcedLimit(w, ff, now, resource)
	}
	if s.limits.windows == nil {
		s.limits.windows = map[string]*rateWindow{}
	}
	key, limit := rateKey(c, resource)
	if c.kind == anonymous {
		limit = s.cfg.AnonymousRateLimit
	}
	win := s.limits.windows[key]
	if win == nil || !now.Before(win.reset) {
		win = &rateWindow{reset: now.Add(time.Hour).Truncate(time.Second)}
		s.limits.windows[key] = win
	}
	over := win.used >= limit
	if !over {
		win.used++
	}
	used, reset := win.used, win.reset
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(limit-used))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", resource)
	if over {
		writeJSON(w, http.StatusForbidden, map[string]any{
			"message":           "API rate limit exceeded. Authenticated requests get a higher rate limit.",
			"documentation_url": primaryLimitDocs,
		})
		return false
	}
	return true
}

func (s *Server) sendForcedLimit(w http.ResponseWriter, f forcedLimit, now time.Time, resource string) bool {
	h := w.Header()
	limit := installationLimit
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(f.remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(limit-f.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(time.Duration(f.resetIn)*time.Second).Unix(), 10))
	h.Set("X-RateLimit-Resource", resource)
	if f.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(f.retryAfter))
	}
	if f.remaining == 0 && f.retryAfter == 0 {
		writeJSON(w, f.status, map[string]any{
			"message":           "API rate limit exceeded for installation.",
			"documentation_url": primaryLimitDocs,
		})
		return false
	}
	writeJSON(w, f.status, map[string]any{
		"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
			"If you reach out to GitHub Support for help, please include the request ID " + h.Get("X-GitHub-Request-Id") + ".",
		"documentation_url": secondaryLimitDocs,
	})
	return false
}

// forceRateLimit queues count failing responses.
func (s *Server) forceRateLimit(f forcedLimit) {
	if f.count <= 0 {
		return
	}
	if f.status != http.StatusTooManyRequests {
		f.status = http.StatusForbidden
	}
	if f.resetIn <= 0 {
		f.resetIn = 60
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.forced = append(s.limits.forced, f)
}
