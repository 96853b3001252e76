package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/atollhq/atoll/locks/audit"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Login configures signing in to the web UI through the GitHub App's OAuth
// web flow. Without ClientID every page refuses with 503.
type Login struct {
	ClientID, ClientSecret string
	// WebURL is GitHub's web root ("https://github.com"), where
	// /login/oauth/ lives; APIURL is the REST root, ending in "/".
	WebURL, APIURL string
	// BaseURL is atoll's public URL; the callback is BaseURL/auth/callback
	// and cookies are Secure when it is https.
	BaseURL string
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration
	// AdminTeams ("org/team-slug") see and may act on everything.
	AdminTeams []string
	// HTTPClient reaches GitHub (default http.DefaultClient).
	HTTPClient *http.Client
}

// The route kinds, which say how a request without credentials is
// answered.
const (
	routeOpen = "open" // anyone: webhooks, health, login
	routePage = "page" // a signed-in person; else 302 to /login
	routeData = "data" // a signed-in person; else 401
	routeAPI  = "api"  // an API token; else 401
)

// route is one registered endpoint, kept for the test that walks them all.
type route struct{ Pattern, Kind string }

const (
	sessionCookie = "atoll_session"
	stateCookie   = "atoll_oauth_state"
	// permissionTTL is how long a user's permission on a repository is
	// trusted before GitHub is asked again.
	permissionTTL = 5 * time.Minute
)

// session is one signed-in person, kept server-side; the cookie holds
// only its random id.
type session struct {
	ID      string
	Login   string
	CSRF    string
	Expires time.Time
}

// sessions keeps the signed-in people: in the store when one is given
// (Config.Sessions), so that every replica sharing it knows them and they
// survive a restart; in memory otherwise. The store holds each session
// under the SHA-256 of its id, never the id itself, so reading the
// database does not give a usable cookie.
type sessions struct {
	store RecordStore
	mu    sync.Mutex
	m     map[string]*session
}

// bucketSessions is the record bucket of stored sessions.
const bucketSessions = "sessions"

// storedSession is a session as stored (its id only as the key's hash).
type storedSession struct {
	Login   string    `json:"login"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
}

func (ss *sessions) start(ctx context.Context, login string, ttl time.Duration) (*session, error) {
	s := &session{ID: randomHex(32), Login: login, CSRF: randomHex(32), Expires: time.Now().Add(ttl)}
	now := time.Now()
	if ss.store != nil {
		// Drop the expired ones first, so the bucket does not grow.
		recs, err := ss.store.ListRecords(ctx, bucketSessions, "")
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			var old storedSession
			if json.Unmarshal(r.Value, &old) != nil || now.After(old.Expires) {
				if err := ss.store.DeleteRecord(ctx, bucketSessions, r.Key); err != nil {
					return nil, err
				}
			}
		}
		b, err := json.Marshal(storedSession{Login: s.Login, CSRF: s.CSRF, Expires: s.Expires.UTC()})
		if err != nil {
			return nil, err
		}
		return s, ss.store.PutRecord(ctx, bucketSessions, hashSecret(s.ID), b)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil {
		ss.m = map[string]*session{}
	}
	for id, old := range ss.m {
		if now.After(old.Expires) {
			delete(ss.m, id)
		}
	}
	ss.m[s.ID] = s
	return s, nil
}

// get returns the live session id, or nil (unknown, expired, or the
// store could not be read).
func (ss *sessions) get(ctx context.Context, id string) *session {
	if ss.store != nil {
		if id == "" {
			return nil
		}
		raw, ok, err := ss.store.GetRecord(ctx, bucketSessions, hashSecret(id))
		if err != nil || !ok {
			return nil
		}
		var st storedSession
		if json.Unmarshal(raw, &st) != nil || time.Now().After(st.Expires) {
			_ = ss.store.DeleteRecord(ctx, bucketSessions, hashSecret(id))
			return nil
		}
		return &session{ID: id, Login: st.Login, CSRF: st.CSRF, Expires: st.Expires}
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil || time.Now().After(s.Expires) {
		delete(ss.m, id)
		return nil
	}
	return s
}

func (ss *sessions) end(ctx context.Context, id string) error {
	if ss.store != nil {
		return ss.store.DeleteRecord(ctx, bucketSessions, hashSecret(id))
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
	return nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

type ctxKey int

const (
	sessionKey ctxKey = iota
	principalKey
)

// principal is who made an API call: a token's name and scope.
type principal struct {
	Name  string
	Scope Scope
}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey).(*session)
	return s
}

// actorOf names who made a request, for the audit trail.
func actorOf(r *http.Request) string {
	if s := sessionOf(r); s != nil {
		return s.Login
	}
	if p, ok := r.Context().Value(principalKey).(principal); ok {
		return "api:" + p.Name
	}
	return "anonymous"
}

func (s *Server) secure() bool { return strings.HasPrefix(s.cfg.Login.BaseURL, "https://") }

func (s *Server) oauth() *oauth2.Config {
	l := s.cfg.Login
	web := strings.TrimSuffix(l.WebURL, "/")
	return &oauth2.Config{ClientID: l.ClientID, ClientSecret: l.ClientSecret,
		Endpoint: oauth2.Endpoint{AuthURL: web + "/login/oauth/authorize", TokenURL: web + "/login/oauth/access_token",
			AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: strings.TrimSuffix(l.BaseURL, "/") + "/auth/callback"}
}

// withSession reads the session cookie into the request's context.
func (s *Server) withSession(r *http.Request) *http.Request {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return r
	}
	sess := s.sessions.get(r.Context(), c.Value)
	if sess == nil {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), sessionKey, sess))
}

// pageAuth requires a session: without one a page answers 302 to /login
// (coming back here afterwards); a state-changing request must also carry
// the session's CSRF token.
func (s *Server) pageAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r = s.withSession(r)
		sess := sessionOf(r)
		if sess == nil {
			next := "/"
			if r.Method == http.MethodGet {
				next = r.URL.RequestURI()
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !s.csrfOK(w, r, sess) {
			return
		}
		h(w, r)
	}
}

// dataAuth requires a session; without one it answers 401.
func (s *Server) dataAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r = s.withSession(r)
		if sessionOf(r) == nil {
			s.fail(w, http.StatusUnauthorized, templates.WebError{Kind: templates.WebSignInFirst})
			return
		}
		h(w, r)
	}
}

func (s *Server) csrfOK(w http.ResponseWriter, r *http.Request, sess *session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		s.fail(w, http.StatusBadRequest, templates.WebError{Kind: templates.WebBadForm})
		return false
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(sess.CSRF)) != 1 {
		s.fail(w, http.StatusForbidden, templates.WebError{Kind: templates.WebCSRFStale})
		return false
	}
	return true
}

// login starts the OAuth web flow.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Login.ClientID == "" {
		s.fail(w, http.StatusServiceUnavailable, templates.WebError{Kind: templates.WebUIOff})
		return
	}
	state := randomHex(16)
	next := r.URL.Query().Get("next")
	// Only a path on this server: "//host" and "/\host" are other sites
	// to a browser.
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		next = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state + "|" + next, Path: "/auth/callback",
		MaxAge: 600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure()})
	http.Redirect(w, r, s.oauth().AuthCodeURL(state), http.StatusFound)
}

// callback finishes the OAuth web flow: it checks the state, exchanges the
// code, asks GitHub who the user is and starts a session.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Login.ClientID == "" {
		s.fail(w, http.StatusServiceUnavailable, templates.WebError{Kind: templates.WebUIOff})
		return
	}
	c, err := r.Cookie(stateCookie)
	state, next, _ := strings.Cut(valueOr(c, err), "|")
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(r.URL.Query().Get("state"))) != 1 {
		s.fail(w, http.StatusBadRequest, templates.WebError{Kind: templates.WebLoginState})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Path: "/auth/callback", MaxAge: -1})
	ctx := r.Context()
	if hc := s.cfg.Login.HTTPClient; hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	tok, err := s.oauth().Exchange(ctx, r.URL.Query().Get("code"))
	if err != nil {
		s.log.Warn("login: code exchange", "err", err)
		s.fail(w, http.StatusUnauthorized, templates.WebError{Kind: templates.WebLoginRefused})
		return
	}
	login, err := s.githubUser(ctx, tok.AccessToken)
	if err != nil {
		s.log.Warn("login: read user", "err", err)
		s.fail(w, http.StatusBadGateway, templates.WebError{Kind: templates.WebUserUnreadable})
		return
	}
	sess, err := s.sessions.start(ctx, login, s.cfg.Login.SessionTTL)
	if err != nil {
		s.log.Error("login: store the session", "err", err)
		s.fail(w, http.StatusServiceUnavailable, templates.WebError{Kind: templates.WebSessionFailed})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.ID, Path: "/", Expires: sess.Expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure()})
	s.record(r.Context(), audit.Entry{Actor: login, Action: "login", Outcome: "ok"})
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusFound)
}

func valueOr(c *http.Cookie, err error) string {
	if err != nil {
		return ""
	}
	return c.Value
}

func (s *Server) githubUser(ctx context.Context, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.Login.APIURL+"user", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	hc := s.cfg.Login.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var u struct {
		Login string `json:"login"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /user: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil || u.Login == "" {
		return "", fmt.Errorf("GET /user: no login in the answer (%v)", err)
	}
	return u.Login, nil
}

// logout ends the session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if sess := sessionOf(r); sess != nil {
		if err := s.sessions.end(r.Context(), sess.ID); err != nil {
			s.log.Error("logout: end the session", "err", err)
			s.fail(w, http.StatusServiceUnavailable, templates.WebError{Kind: templates.WebLogoutFailed})
			return
		}
		s.record(r.Context(), audit.Entry{Actor: sess.Login, Action: "logout", Outcome: "ok"})
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secure()})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// access answers who may see and do what, asking GitHub through the
// engine and caching the answers for permissionTTL.
type access struct {
	mu    sync.Mutex
	perms map[string]cachedPerm // login \x00 repo
	admin map[string]cachedPerm // login

	repos       []string // served repositories
	reposExpire time.Time
}

type cachedPerm struct {
	perm    vcs.Permission
	admin   bool
	expires time.Time
}

// servedRepos is the engine's list of served repositories, which asks
// GitHub, remembered for a minute: every page needs it.
func (s *Server) servedRepos(ctx context.Context) ([]string, error) {
	s.acc.mu.Lock()
	if time.Now().Before(s.acc.reposExpire) {
		repos := append([]string(nil), s.acc.repos...)
		s.acc.mu.Unlock()
		return repos, nil
	}
	s.acc.mu.Unlock()
	repos, err := s.cfg.Engine.Repos(ctx)
	if err != nil {
		return nil, err
	}
	s.acc.mu.Lock()
	s.acc.repos, s.acc.reposExpire = repos, time.Now().Add(time.Minute)
	s.acc.mu.Unlock()
	return append([]string(nil), repos...), nil
}

// isAdmin reports whether login is in one of the admin teams.
func (s *Server) isAdmin(ctx context.Context, login string) bool {
	if len(s.cfg.Login.AdminTeams) == 0 {
		return false
	}
	s.acc.mu.Lock()
	c, ok := s.acc.admin[login]
	s.acc.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		return c.admin
	}
	admin := false
	for _, t := range s.cfg.Login.AdminTeams {
		if in, err := s.cfg.Engine.InTeam(ctx, t, login); err == nil && in {
			admin = true
			break
		} else if err != nil {
			s.log.Warn("admin team membership", "team", t, "user", login, "err", err)
		}
	}
	s.acc.mu.Lock()
	if s.acc.admin == nil {
		s.acc.admin = map[string]cachedPerm{}
	}
	s.acc.admin[login] = cachedPerm{admin: admin, expires: time.Now().Add(permissionTTL)}
	s.acc.mu.Unlock()
	return admin
}

// permission is login's permission on repo ("owner/name"); an error
// counts as none.
func (s *Server) permission(ctx context.Context, login, repo string) vcs.Permission {
	key := login + "\x00" + strings.ToLower(repo)
	s.acc.mu.Lock()
	c, ok := s.acc.perms[key]
	s.acc.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		return c.perm
	}
	perm, err := s.cfg.Engine.Permission(ctx, repo, login)
	if err != nil {
		s.log.Warn("repository permission", "repo", repo, "user", login, "err", err)
		return vcs.PermissionNone // not cached: asked again next time
	}
	s.acc.mu.Lock()
	if s.acc.perms == nil {
		s.acc.perms = map[string]cachedPerm{}
	}
	s.acc.perms[key] = cachedPerm{perm: perm, expires: time.Now().Add(permissionTTL)}
	s.acc.mu.Unlock()
	return perm
}

// canSee reports whether the request's user may see repo.
func (s *Server) canSee(r *http.Request, repo string) bool {
	sess := sessionOf(r)
	if sess == nil {
		return false
	}
	return s.isAdmin(r.Context(), sess.Login) || s.permission(r.Context(), sess.Login, repo).AtLeast(vcs.PermissionRead)
}

// mayRun returns what the request's user lacks to do on repo what the
// comment command would do ("" when allowed).
func (s *Server) mayRun(r *http.Request, repo, command string) string {
	sess := sessionOf(r)
	if sess == nil {
		return "a login"
	}
	if s.isAdmin(r.Context(), sess.Login) {
		return ""
	}
	missing, err := s.cfg.Engine.MayRun(r.Context(), repo, sess.Login, command)
	if err != nil {
		s.log.Warn("permission check", "repo", repo, "user", sess.Login, "err", err)
		return "a permission GitHub did not confirm"
	}
	return missing
}

// visibleRepos filters repos to those the request's user may see.
func (s *Server) visibleRepos(r *http.Request, repos []string) map[string]bool {
	out := map[string]bool{}
	for _, repo := range repos {
		if s.canSee(r, repo) {
			out[repo] = true
		}
	}
	return out
}

// record appends to the audit trail; a failure is logged, never fatal
// to the request.
func (s *Server) record(ctx context.Context, e audit.Entry) {
	if s.cfg.Audit == nil {
		return
	}
	if _, err := s.cfg.Audit.Append(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("audit", "action", e.Action, "err", err)
	}
}
