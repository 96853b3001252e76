package emulator

import (
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The OAuth web flow of a GitHub App, on the web host as GitHub serves it:
//
//	GET  /login/oauth/authorize?client_id=&redirect_uri=&state=[&login=NAME]
//	     without login: a page to pick a user; with it: 302 to
//	     redirect_uri?code=CODE&state=STATE
//	POST /login/oauth/access_token (client_id, client_secret, code)
//	     a user-to-server token ("ghu_..."), JSON when asked with
//	     Accept: application/json, else form-encoded; a bad code is a 200
//	     with error=bad_verification_code, as GitHub answers
//
// and GET /user on the REST API answers for the token's user.

// oauthCodeTTL is how long an authorization code may be exchanged.
const oauthCodeTTL = 10 * time.Minute

type oauthCode struct {
	user     *user
	clientID string
	expires  time.Time
}

var authorizePage = template.Must(template.New("authorize").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign in to the emulator</title></head>
<body><h1>Sign in as</h1>
<form method="get" action="/login/oauth/authorize">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="state" value="{{.State}}">
<ul>{{range .Users}}<li><button name="login" value="{{.}}">{{.}}</button></li>{{end}}</ul>
<p><label>Another user: <input name="login"></label> <button>Sign in</button></p>
</form></body></html>
`))

func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/login/oauth/authorize" && r.Method == http.MethodGet:
		s.handleAuthorize(w, r)
	case r.URL.Path == "/login/oauth/access_token" && r.Method == http.MethodPost:
		s.handleAccessTokenExchange(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if s.cfg.ClientID == "" || q.Get("client_id") != s.cfg.ClientID {
		http.Error(w, "The client_id is not valid.", http.StatusNotFound)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() {
		http.Error(w, "The redirect_uri MUST be an absolute URL.", http.StatusBadRequest)
		return
	}
	login := strings.TrimSpace(q.Get("login"))
	s.mu.Lock()
	if login == "" {
		var users []string
		for _, u := range s.users {
			if u.typ == "User" {
				users = append(users, u.login)
			}
		}
		s.mu.Unlock()
		sort.Strings(users)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = authorizePage.Execute(w, map[string]any{"ClientID": q.Get("client_id"),
			"RedirectURI": redirect.String(), "State": q.Get("state"), "Users": users})
		return
	}
	code := newToken()[4:24]
	s.oauthCodes[code] = oauthCode{user: s.userLocked(login), clientID: s.cfg.ClientID, expires: s.now().Add(oauthCodeTTL)}
	s.mu.Unlock()
	rq := redirect.Query()
	rq.Set("code", code)
	if st := q.Get("state"); st != "" {
		rq.Set("state", st)
	}
	redirect.RawQuery = rq.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) handleAccessTokenExchange(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	answer := func(v url.Values) {
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			out := map[string]any{}
			for k := range v {
				out[k] = v.Get(k)
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		_, _ = w.Write([]byte(v.Encode()))
	}
	fail := func(code, desc string) {
		answer(url.Values{"error": {code}, "error_description": {desc}})
	}
	if s.cfg.ClientID == "" || r.Form.Get("client_id") != s.cfg.ClientID || r.Form.Get("client_secret") != s.cfg.ClientSecret {
		fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	code := r.Form.Get("code")
	c, ok := s.oauthCodes[code]
	delete(s.oauthCodes, code) // a code is good once
	if !ok || !s.now().Before(c.expires) || c.clientID != r.Form.Get("client_id") {
		fail("bad_verification_code", "The code passed is incorrect or expired.")
		return
	}
	tok := "ghu_" + newToken()[4:40]
	s.tokens[tok] = &token{user: c.user, expires: s.now().Add(s.cfg.UserTokenTTL)}
	answer(url.Values{"access_token": {tok}, "token_type": {"bearer"}, "scope": {""},
		"expires_in": {itoa(int64(s.cfg.UserTokenTTL / time.Second))}})
}

// handleGetUser serves GET /user for a user-to-server token.
func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	switch c.kind {
	case userToken:
	case anonymous:
		writeError(w, http.StatusUnauthorized, "Requires authentication")
		return
	default:
		writeError(w, http.StatusForbidden, "Resource not accessible by integration")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userJSON(urlsOf(r), c.user)
	for k, v := range map[string]any{"name": nil, "company": nil, "blog": "", "location": nil, "email": nil,
		"hireable": nil, "bio": nil, "twitter_username": nil, "public_repos": 0, "public_gists": 0, "followers": 0,
		"following": 0, "created_at": ts(s.created), "updated_at": ts(s.created), "private_gists": 0,
		"total_private_repos": 0, "owned_private_repos": 0, "disk_usage": 0, "collaborators": 0,
		"two_factor_authentication": true, "user_view_type": "private"} {
		u[k] = v
	}
	writeJSON(w, http.StatusOK, u)
}
