package emulator

import (
	"net/http"
	"slices"
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

// accessTokenRequest is the body of POST
// /app/installations/{id}/access_tokens: optional narrowing.
type accessTokenRequest struct {
	Repositories  []string          `json:"repositories"`
	RepositoryIDs []int64           `json:"repository_ids"`
	Permissions   map[string]string `json:"permissions"`
}

// permissionRank orders permission levels.
var permissionRank = map[string]int{"read": 1, "write": 2, "admin": 3}

// handleAccessToken issues an installation token (ghs_...) that expires
// after Config.TokenTTL. As on GitHub, the body may narrow it to some
// repositories of the installation (repositories by name,
// repository_ids) and to some of the App's permissions; asking for a
// repository the installation does not have, or a permission beyond the
// App's, is refused with 422. A narrowed token reaches only its
// repositories (others answer 404, git included), and one without a
// write permission cannot write.
func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	if !requireJWT(w, r) {
		return
	}
	id, ok := pathInt(w, r, "id")
	if !ok {
		return
	}
	var in accessTokenRequest
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
	t := &token{inst: inst}
	var selected []*repo
	if len(in.Repositories) > 0 || len(in.RepositoryIDs) > 0 {
		t.repos = map[int64]bool{}
		for _, rp := range inst.repos {
			if slices.ContainsFunc(in.Repositories, func(n string) bool { return strings.EqualFold(n, rp.name) }) ||
				slices.Contains(in.RepositoryIDs, rp.id) {
				t.repos[rp.id] = true
				selected = append(selected, rp)
			}
		}
		if len(selected) != len(in.Repositories)+len(in.RepositoryIDs) {
			writeError(w, http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.")
			return
		}
	}
	installed := s.ident().perms()
	perms := installed
	if len(in.Permissions) > 0 {
		t.perms = map[string]string{}
		perms = obj{}
		for name, level := range in.Permissions {
			granted, _ := installed[name].(string)
			if permissionRank[level] == 0 || permissionRank[level] > permissionRank[granted] {
				writeError(w, http.StatusUnprocessableEntity, "The permissions requested are not granted to this installation.")
				return
			}
			t.perms[name], perms[name] = level, level
		}
		t.perms["metadata"], perms["metadata"] = "read", "read" // always granted
	}
	tok := newToken()
	t.expires = s.now().Add(s.cfg.TokenTTL).Truncate(time.Second)
	s.tokens[tok] = t
	out := obj{"token": tok, "expires_at": ts(t.expires), "permissions": perms, "repository_selection": "all"}
	if t.repos != nil {
		u := urlsOf(r)
		list := []obj{}
		for _, rp := range selected {
			list = append(list, s.repoJSON(u, rp))
		}
		out["repository_selection"], out["repositories"] = "selected", list
	}
	writeJSON(w, http.StatusCreated, out)
}

// handleInstallationRepos lists the repositories of the token's
// installation.
func (s *Server) handleInstallationRepos(w http.ResponseWriter, r *http.Request) {
	if !requireToken(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := callerOf(r)
	u := urlsOf(r)
	repos, selection := c.inst.repos, "all"
	if c.tok != nil && c.tok.repos != nil {
		repos, selection = slices.DeleteFunc(slices.Clone(repos), func(rp *repo) bool { return !c.tok.repos[rp.id] }), "selected"
	}
	list := []obj{}
	for _, rp := range paginate(w, r, repos) {
		list = append(list, s.repoJSON(u, rp))
	}
	writeJSON(w, http.StatusOK, obj{"total_count": len(repos), "repository_selection": selection, "repositories": list})
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
