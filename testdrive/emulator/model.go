package emulator

import (
	"strings"
	"sync"
	"time"
)

// The in-memory model. Every field is guarded by Server.mu, except
// repo.gitMu, which serializes git operations on one repository.

type user struct {
	id    int64
	login string
	typ   string // "User", "Bot" or "Organization"
}

type org struct {
	account *user
	teams   map[string]*team // by slug
	inst    *installation
}

type team struct {
	id      int64
	slug    string
	name    string
	members map[string]bool // lower-case logins
}

type installation struct {
	id      int64
	account *user
	created time.Time
	repos   []*repo
}

type token struct {
	inst    *installation // nil for a user's token
	user    *user         // a user's token: OAuth user-to-server or personal access token
	expires time.Time     // zero: never (personal access tokens)
	// repos, when set, are the ids of the only repositories the token
	// reaches; perms, when set, its permissions (narrowed at issue).
	repos map[int64]bool
	perms map[string]string
}

type repo struct {
	id            int64
	owner         *org
	name          string
	private       bool
	defaultBranch string
	created       time.Time
	pushed        time.Time
	dir           string            // bare repository
	branches      map[string]string // name -> tip sha
	perms         map[string]string // lower-case login -> role
	nextNumber    int
	issues        map[int]*issue // pull requests too
	labels        map[string]*label
	protection    map[string]*protection     // branch -> its protection rule
	statuses      map[string][]*commitStatus // by commit sha, oldest first
	gitMu         sync.Mutex
}

func (r *repo) fullName() string { return r.owner.account.login + "/" + r.name }

type label struct {
	id          int64
	name        string
	color       string
	description string
}

// issue is an issue or, with pr set, a pull request (they share numbers).
type issue struct {
	id          int64
	number      int
	title       string
	body        string
	user        *user
	state       string // open, closed
	stateReason string
	labels      []*label
	created     time.Time
	updated     time.Time
	closed      time.Time
	closedBy    *user
	comments    []*comment
	viaApp      bool
	pr          *pull
}

type pull struct {
	id          int64
	headRef     string
	baseRef     string
	headSHA     string
	draft       bool
	merged      bool
	mergedAt    time.Time
	mergedBy    *user
	mergeSHA    string
	reviews     []*review
	mergeCache  mergeCheck
	openBaseSHA string
	// fork, when set, is the owner of the fork the head branch lives in
	// (the branch's commits are in this repository, as GitHub keeps them
	// under refs/pull/N/head); forkID is the fork's repository id.
	fork   *user
	forkID int64
}

// mergeCheck caches whether head merges cleanly into base.
type mergeCheck struct {
	base, head string
	conflict   bool
	behind     bool
}

type comment struct {
	id        int64
	repo      *repo
	issue     *issue
	user      *user
	body      string
	created   time.Time
	updated   time.Time
	viaApp    bool
	minimized string // classifier, lower case; "" if not minimized
	reactions []*reaction
}

type reaction struct {
	id      int64
	user    *user
	content string
	created time.Time
}

type review struct {
	id        int64
	user      *user
	state     string
	body      string
	commitID  string
	submitted time.Time
}

type checkRun struct {
	id          int64
	repo        *repo
	name        string
	headSHA     string
	status      string
	conclusion  string
	externalID  string
	detailsURL  string
	title       string
	summary     string
	text        string
	started     time.Time
	completed   time.Time
	suiteID     int64
	annotations int
}

// userLocked finds or creates a user. Callers hold s.mu (or own s).
func (s *Server) userLocked(login string) *user {
	k := strings.ToLower(login)
	if u, ok := s.users[k]; ok {
		return u
	}
	u := &user{id: s.newID(), login: login, typ: "User"}
	if strings.HasSuffix(login, "[bot]") {
		u.typ = "Bot"
	}
	s.users[k] = u
	return u
}

// orgLocked finds or creates an organization and its App installation.
// created reports a new installation.
func (s *Server) orgLocked(login string) (o *org, created bool) {
	k := strings.ToLower(login)
	if o, ok := s.orgs[k]; ok {
		return o, false
	}
	acct := s.userLocked(login)
	acct.typ = "Organization"
	o = &org{account: acct, teams: map[string]*team{}}
	o.inst = &installation{id: s.newID(), account: acct, created: s.now()}
	s.installations[o.inst.id] = o.inst
	s.orgs[k] = o
	return o, true
}

func (s *Server) repoLocked(owner, name string) *repo {
	return s.repos[strings.ToLower(owner+"/"+name)]
}

// permissionLocked is a user's role on a repository: an explicit one, else
// admin for the owner itself, read on public repos, none on private.
func (s *Server) permissionLocked(r *repo, login string) string {
	if p, ok := r.perms[strings.ToLower(login)]; ok {
		return p
	}
	if strings.EqualFold(login, r.owner.account.login) {
		return "admin"
	}
	if r.private {
		return "none"
	}
	return "read"
}

// association is author_association of a user on a repository.
func (s *Server) association(r *repo, u *user) string {
	if u.typ == "Bot" {
		return "NONE"
	}
	if strings.EqualFold(u.login, r.owner.account.login) {
		return "OWNER"
	}
	for _, t := range r.owner.teams {
		if t.members[strings.ToLower(u.login)] {
			return "MEMBER"
		}
	}
	if _, ok := r.perms[strings.ToLower(u.login)]; ok {
		return "COLLABORATOR"
	}
	return "NONE"
}
