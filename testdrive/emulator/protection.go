package emulator

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// protection is a branch's protection rule, the part the emulator
// enforces in mergeable_state: required status checks (by context name),
// "require branches to be up to date" (strict) and a required count of
// approving reviews.
type protection struct {
	checks    []string
	strict    bool
	approvals int
}

// BranchProtection is the control API's body to protect a branch.
type BranchProtection struct {
	Repo   string `json:"-"`
	Branch string `json:"-"`
	// RequiredChecks are the check names (contexts) that must pass.
	RequiredChecks []string `json:"required_checks"`
	// Strict requires the branch to be up to date with the base.
	Strict bool `json:"strict"`
	// RequiredApprovals is the required_approving_review_count.
	RequiredApprovals int `json:"required_approvals"`
}

// ExternalCheck is a check run of another CI (not the App), created by the
// control API on a commit.
type ExternalCheck struct {
	Repo       string `json:"-"`
	Name       string `json:"name"`
	HeadSHA    string `json:"head_sha"`
	Status     string `json:"status"`               // queued, in_progress, completed
	Conclusion string `json:"conclusion,omitempty"` // with completed
}

func (s *Server) ctlProtectBranch(w http.ResponseWriter, r *http.Request) {
	var in BranchProtection
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	if rp == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rp.protection == nil {
		rp.protection = map[string]*protection{}
	}
	rp.protection[r.PathValue("branch")] = &protection{checks: slices.Clone(in.RequiredChecks), strict: in.Strict, approvals: in.RequiredApprovals}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) ctlExternalCheck(w http.ResponseWriter, r *http.Request) {
	var in ExternalCheck
	if !decodeBody(w, r, &in) {
		return
	}
	rp := s.ctlRepo(w, r)
	if rp == nil {
		return
	}
	if in.Name == "" || in.HeadSHA == "" || !slices.Contains([]string{"queued", "in_progress", "completed"}, in.Status) ||
		(in.Status == "completed") != (in.Conclusion != "") {
		ctlError(w, http.StatusUnprocessableEntity, "name, head_sha, status and (with completed only) conclusion are required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cr := &checkRun{id: s.newID(), repo: rp, name: in.Name, headSHA: in.HeadSHA, status: in.Status, conclusion: in.Conclusion,
		started: now, suiteID: s.newID(), title: in.Name, summary: in.Name}
	if in.Status == "completed" {
		cr.completed = now
	}
	s.checkRuns[cr.id] = cr
	writeJSON(w, http.StatusCreated, obj{"id": cr.id})
}

// protectionJSON is a branch's "protection" object, as GET branch shows it.
func protectionJSON(p *protection) obj {
	if p == nil {
		return obj{"enabled": false, "required_status_checks": obj{"enforcement_level": "off", "contexts": []string{}, "checks": []obj{}}}
	}
	checks := []obj{}
	for _, c := range p.checks {
		checks = append(checks, obj{"context": c, "app_id": nil})
	}
	return obj{"enabled": true, "required_status_checks": obj{"enforcement_level": "non_admins",
		"contexts": append([]string{}, p.checks...), "checks": checks}}
}

// handleRequiredStatusChecks serves GET .../branches/{branch}/protection/
// required_status_checks: 404 when the branch has no protection.
func (s *Server) handleRequiredStatusChecks(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.visibleRepo(w, r, false)
	if rp == nil {
		return
	}
	name := r.PathValue("branch")
	p := rp.protection[name]
	if p == nil {
		writeError(w, http.StatusNotFound, "Branch not protected")
		return
	}
	u := urlsOf(r)
	api := repoURL(u, rp) + "/branches/" + escapePath(name) + "/protection/required_status_checks"
	checks := []obj{}
	for _, c := range p.checks {
		checks = append(checks, obj{"context": c, "app_id": nil})
	}
	writeJSON(w, http.StatusOK, obj{"url": api, "strict": p.strict, "contexts": append([]string{}, p.checks...),
		"checks": checks, "contexts_url": api + "/contexts"})
}

// gateSnapshot is what mergeable_state reads besides git: the base
// branch's protection, the head's checks and the approving reviewers.
type gateSnapshot struct {
	prot      *protection
	checks    map[string]bool // name -> passing (latest run of that name)
	approvals int
}

// gateSnapshotLocked reads a pull request's gate facts under s.mu. An
// approval counts as GitHub counts it: a user's latest review, approving,
// by someone with write access other than the author.
func (s *Server) gateSnapshotLocked(rp *repo, is *issue) gateSnapshot {
	g := gateSnapshot{prot: rp.protection[is.pr.baseRef], checks: map[string]bool{}}
	newest := map[string]int64{}
	for _, cr := range s.checkRuns {
		if cr.repo != rp || cr.headSHA != is.pr.headSHA {
			continue
		}
		if cr.id < newest[cr.name] {
			continue
		}
		newest[cr.name] = cr.id
		g.checks[cr.name] = cr.status == "completed" && slices.Contains([]string{"success", "neutral", "skipped"}, cr.conclusion)
	}
	last := map[string]string{}
	for _, rv := range is.pr.reviews {
		if rv.state == "COMMENTED" || rv.state == "PENDING" {
			continue
		}
		last[strings.ToLower(rv.user.login)] = rv.state
	}
	for login, state := range last {
		if state != "APPROVED" || strings.EqualFold(login, is.user.login) {
			continue
		}
		if role := rp.perms[login]; slices.Contains([]string{"write", "maintain", "admin"}, role) {
			g.approvals++
		}
	}
	return g
}

// gateState refines a clean pull request's mergeable_state as GitHub
// does: "behind" when protection requires an up-to-date branch that is
// not, "blocked" while required reviews or required checks are missing
// or not passing, "unstable" when a check that is not required is
// failing or pending, else "clean".
func (s *Server) gateState(ctx context.Context, p pullSnapshot) string {
	g := p.gate
	if g.prot != nil {
		if g.prot.strict && !s.isAncestor(ctx, p.dir, p.base, p.head) {
			return "behind"
		}
		if g.approvals < g.prot.approvals {
			return "blocked"
		}
		for _, c := range g.prot.checks {
			if !g.checks[c] {
				return "blocked"
			}
		}
	}
	for name, ok := range g.checks {
		if !ok && (g.prot == nil || !slices.Contains(g.prot.checks, name)) {
			return "unstable"
		}
	}
	return "clean"
}
