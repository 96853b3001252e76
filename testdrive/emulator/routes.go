package emulator

import "net/http"

// restRoutes maps the REST subset atoll calls. Paths are relative to the
// API root (the /api/v3 prefix is already stripped).
func (s *Server) restRoutes() *http.ServeMux {
	m := http.NewServeMux()
	const rp = "/repos/{owner}/{repo}"
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /user":                                       s.handleGetUser,
		"GET /app":                                        s.handleGetApp,
		"POST /app-manifests/{code}/conversions":          s.handleManifestConversion,
		"GET /app/installations":                          s.handleListInstallations,
		"GET /app/installations/{id}":                     s.handleGetInstallation,
		"POST /app/installations/{id}/access_tokens":      s.handleAccessToken,
		"GET /installation/repositories":                  s.handleInstallationRepos,
		"GET /orgs/{org}/teams/{slug}/memberships/{user}": s.handleTeamMembership,
		"GET " + rp:                                       s.handleGetRepo,
		"GET " + rp + "/installation":                     s.handleRepoInstallation,
		"GET " + rp + "/branches/{branch...}":             s.handleGetBranch,
		"GET " + rp + "/branches/{branch}/protection/required_status_checks": s.handleRequiredStatusChecks,
		"DELETE " + rp + "/git/refs/{ref...}":                                s.handleDeleteRef,
		"GET " + rp + "/contents/{path...}":                                  s.handleGetContents,
		"GET " + rp + "/compare/{basehead...}":                               s.handleCompare,
		"GET " + rp + "/collaborators/{user}/permission":                     s.handlePermission,
		"GET " + rp + "/pulls":                                               s.handleListPulls,
		"GET " + rp + "/pulls/{number}":                                      s.handleGetPull,
		"GET " + rp + "/pulls/{number}/files":                                s.handlePullFiles,
		"GET " + rp + "/pulls/{number}/reviews":                              s.handleListReviews,
		"PUT " + rp + "/pulls/{number}/merge":                                s.handleMergePull,
		"GET " + rp + "/issues":                                              s.handleListIssues,
		"POST " + rp + "/issues":                                             s.handleCreateIssue,
		"GET " + rp + "/issues/{number}":                                     s.handleGetIssue,
		"PATCH " + rp + "/issues/{number}":                                   s.handleUpdateIssue,
		"POST " + rp + "/issues/{number}/labels":                             s.handleAddLabels,
		"DELETE " + rp + "/issues/{number}/labels/{name}":                    s.handleRemoveLabel,
		"POST " + rp + "/issues/{number}/comments":                           s.handleCreateComment,
		"PATCH " + rp + "/issues/comments/{id}":                              s.handleUpdateComment,
		"POST " + rp + "/issues/comments/{id}/reactions":                     s.handleCreateReaction,
		"POST " + rp + "/check-runs":                                         s.handleCreateCheckRun,
		"GET " + rp + "/check-runs/{id}":                                     s.handleGetCheckRun,
		"PATCH " + rp + "/check-runs/{id}":                                   s.handleUpdateCheckRun,
		"GET " + rp + "/commits/{ref}/check-runs":                            s.handleListCheckRuns,
		"POST " + rp + "/statuses/{sha}":                                     s.handleCreateStatus,
		"GET " + rp + "/commits/{ref}/statuses":                              s.handleListStatuses,
		"GET " + rp + "/commits/{ref}/status":                                s.handleCombinedStatus,
		"GET " + rp + "/issues/{number}/{sub}":                               s.handleIssueSub,
	} {
		m.HandleFunc(pattern, h)
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { notFound(w) })
	return m
}

// handleIssueSub serves GET issues/{number}/comments, issues/{number}/labels
// and issues/comments/{id}, whose patterns would overlap.
func (s *Server) handleIssueSub(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.PathValue("number") == "comments":
		r.SetPathValue("id", r.PathValue("sub"))
		s.handleGetComment(w, r)
	case r.PathValue("sub") == "comments":
		s.handleListComments(w, r)
	case r.PathValue("sub") == "labels":
		s.handleListLabels(w, r)
	default:
		notFound(w)
	}
}
