package emulator

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (s *Server) handleGetApp(w http.ResponseWriter, r *http.Request) {
	if !requireJWT(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.appJSON(urlsOf(r))
	m["client_id"] = s.ident().clientID
	m["installations_count"] = len(s.installations)
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) sortedInstallations() []*installation {
	list := make([]*installation, 0, len(s.installations))
	for _, inst := range s.installations {
		list = append(list, inst)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].id < list[j].id })
	return list
}

func (s *Server) handleListInstallations(w http.ResponseWriter, r *http.Request) {
	if !requireJWT(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := urlsOf(r)
	out := []obj{}
	for _, inst := range paginate(w, r, s.sortedInstallations()) {
		out = append(out, s.restInstallationJSON(u, inst))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetInstallation(w http.ResponseWriter, r *http.Request) {
	if !requireJWT(w, r) {
		return
	}
	id, ok := pathInt(w, r, "id")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.installations[id]
	if inst == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, s.restInstallationJSON(urlsOf(r), inst))
}

// handleAccessToken issues an installation token (ghs_...) that expires
// after Config.TokenTTL. Narrowing by repositories or permissions in the
// body is accepted and ignored: tokens reach every repository of their
// installation.
func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	if !requireJWT(w, r) {
		return
	}
	id, ok := pathInt(w, r, "id")
	if !ok {
		return
	}
	var in map[string]any
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.installations[id]
	if inst == nil {
		notFound(w)
		return
	}
	tok := newToken()
	exp := s.now().Add(s.cfg.TokenTTL).Truncate(time.Second)
	s.tokens[tok] = &token{inst: inst, expires: exp}
	writeJSON(w, http.StatusCreated, obj{
		"token": tok, "expires_at": ts(exp), "permissions": s.ident().perms(), "repository_selection": "all",
	})
}

// handleInstallationRepos lists the repositories of the token's
// installation.
func (s *Server) handleInstallationRepos(w http.ResponseWriter, r *http.Request) {
	if !requireToken(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := callerOf(r).inst
	u := urlsOf(r)
	list := []obj{}
	for _, rp := range paginate(w, r, inst.repos) {
		list = append(list, s.repoJSON(u, rp))
	}
	writeJSON(w, http.StatusOK, obj{"total_count": len(inst.repos), "repository_selection": "all", "repositories": list})
}

// restInstallationJSON is an installation as REST serves it. GitHub's
// description of GET /app/installations requires the account to be both a
// simple user and an enterprise (allOf), so the account carries the
// enterprise fields too (webhooks, whose schema forbids them, do not).
func (s *Server) restInstallationJSON(u urls, inst *installation) obj {
	m := s.installationJSON(u, inst)
	acct := m["account"].(obj)
	acct["name"] = inst.account.login
	acct["slug"] = strings.ToLower(inst.account.login)
	acct["created_at"] = ts(inst.created)
	acct["updated_at"] = ts(inst.created)
	acct["description"] = nil
	acct["website_url"] = nil
	m["client_id"] = s.ident().clientID
	return m
}
