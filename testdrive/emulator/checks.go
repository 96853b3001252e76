package emulator

import (
	"net/http"
	"slices"
	"sort"
	"time"
	"unicode/utf8"
)

const maxCheckText = 65535

var (
	checkStatuses    = []string{"queued", "in_progress", "completed"}
	checkConclusions = []string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"}
)

type checkInput struct {
	Name        *string    `json:"name"`
	HeadSHA     *string    `json:"head_sha"`
	DetailsURL  *string    `json:"details_url"`
	ExternalID  *string    `json:"external_id"`
	Status      *string    `json:"status"`
	Conclusion  *string    `json:"conclusion"`
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	Output      *struct {
		Title       *string `json:"title"`
		Summary     *string `json:"summary"`
		Text        *string `json:"text"`
		Annotations []any   `json:"annotations"`
	} `json:"output"`
}

// validate checks the input as GitHub's checks/create does.
func (in *checkInput) validate(create bool) (fieldError, bool) {
	bad := func(field, code, msg string) (fieldError, bool) {
		return fieldError{Resource: "CheckRun", Code: code, Field: field, Message: msg}, false
	}
	if create && (in.Name == nil || *in.Name == "") {
		return bad("name", "missing_field", "")
	}
	if create && (in.HeadSHA == nil || *in.HeadSHA == "") {
		return bad("head_sha", "missing_field", "")
	}
	if in.Status != nil && !slices.Contains(checkStatuses, *in.Status) {
		return bad("status", "invalid", "")
	}
	if in.Conclusion != nil && !slices.Contains(checkConclusions, *in.Conclusion) {
		return bad("conclusion", "invalid", "")
	}
	if in.Status != nil && *in.Status == "completed" && in.Conclusion == nil && create {
		return bad("conclusion", "missing_field", "conclusion is required when status is completed")
	}
	if o := in.Output; o != nil {
		if o.Title == nil || o.Summary == nil {
			return bad("output", "missing_field", "output requires title and summary")
		}
		if utf8.RuneCountInString(*o.Summary) > maxCheckText || (o.Text != nil && utf8.RuneCountInString(*o.Text) > maxCheckText) {
			return bad("output", "custom", "Only 65535 characters are allowed; 65536 were supplied.")
		}
		if len(o.Annotations) > 50 {
			return bad("output", "custom", "Only 50 annotations are allowed per request")
		}
	}
	return fieldError{}, true
}

func (in *checkInput) apply(cr *checkRun, now time.Time) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&cr.name, in.Name)
	set(&cr.detailsURL, in.DetailsURL)
	set(&cr.externalID, in.ExternalID)
	set(&cr.status, in.Status)
	if in.StartedAt != nil {
		cr.started = *in.StartedAt
	}
	if in.Conclusion != nil {
		cr.conclusion = *in.Conclusion
		cr.status = "completed"
	}
	if cr.status == "completed" && cr.completed.IsZero() {
		cr.completed = now
		if in.CompletedAt != nil {
			cr.completed = *in.CompletedAt
		}
	}
	if o := in.Output; o != nil {
		set(&cr.title, o.Title)
		set(&cr.summary, o.Summary)
		set(&cr.text, o.Text)
		cr.annotations += len(o.Annotations)
	}
}

func (s *Server) checkRunJSON(u urls, cr *checkRun) obj {
	api := repoURL(u, cr.repo) + "/check-runs/" + itoa(cr.id)
	str := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	return obj{
		"id": cr.id, "head_sha": cr.headSHA, "node_id": nodeID("CR", cr.id), "external_id": str(cr.externalID),
		"url": api, "html_url": u.web + "/" + cr.repo.fullName() + "/runs/" + itoa(cr.id),
		"details_url": str(cr.detailsURL), "status": cr.status, "conclusion": str(cr.conclusion),
		"started_at": ts(cr.started), "completed_at": ts(cr.completed), "name": cr.name,
		"output": obj{
			"title": str(cr.title), "summary": str(cr.summary), "text": str(cr.text),
			"annotations_count": cr.annotations, "annotations_url": api + "/annotations",
		},
		"check_suite": obj{"id": cr.suiteID}, "app": s.appJSON(u), "pull_requests": []obj{},
	}
}

func (s *Server) handleCreateCheckRun(w http.ResponseWriter, r *http.Request) {
	var in checkInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	rp := s.visibleRepo(w, r, true)
	s.mu.Unlock()
	if rp == nil {
		return
	}
	if fe, ok := in.validate(true); !ok {
		writeValidation(w, fe)
		return
	}
	sha, err := s.revParse(r.Context(), rp.dir, *in.HeadSHA)
	if err != nil || sha != *in.HeadSHA {
		writeValidation(w, fieldError{Resource: "CheckRun", Code: "invalid", Field: "head_sha", Message: "No commit found for SHA: " + *in.HeadSHA})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cr := &checkRun{id: s.newID(), repo: rp, headSHA: sha, status: "queued", started: now, suiteID: s.suiteFor(rp, sha)}
	in.apply(cr, now)
	s.checkRuns[cr.id] = cr
	writeJSON(w, http.StatusCreated, s.checkRunJSON(urlsOf(r), cr))
}

// suiteFor gives the App's one check suite per commit a stable id.
func (s *Server) suiteFor(rp *repo, sha string) int64 {
	for _, cr := range s.checkRuns {
		if cr.repo == rp && cr.headSHA == sha {
			return cr.suiteID
		}
	}
	return s.newID()
}

func (s *Server) checkRunFor(w http.ResponseWriter, r *http.Request, write bool) *checkRun {
	rp := s.visibleRepo(w, r, write)
	if rp == nil {
		return nil
	}
	id, ok := pathInt(w, r, "id")
	if !ok {
		return nil
	}
	cr := s.checkRuns[id]
	if cr == nil || cr.repo != rp {
		notFound(w)
		return nil
	}
	return cr
}

func (s *Server) handleUpdateCheckRun(w http.ResponseWriter, r *http.Request) {
	var in checkInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := s.checkRunFor(w, r, true)
	if cr == nil {
		return
	}
	if fe, ok := in.validate(false); !ok {
		writeValidation(w, fe)
		return
	}
	if in.Status != nil && *in.Status == "completed" && in.Conclusion == nil && cr.conclusion == "" {
		writeValidation(w, fieldError{Resource: "CheckRun", Code: "missing_field", Field: "conclusion"})
		return
	}
	in.HeadSHA = nil
	in.apply(cr, s.now())
	writeJSON(w, http.StatusOK, s.checkRunJSON(urlsOf(r), cr))
}

func (s *Server) handleGetCheckRun(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cr := s.checkRunFor(w, r, false); cr != nil {
		writeJSON(w, http.StatusOK, s.checkRunJSON(urlsOf(r), cr))
	}
}

// handleListCheckRuns lists the check runs of a commit (a sha or a branch),
// newest first, filtered by check_name and status.
func (s *Server) handleListCheckRuns(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.visibleRepo(w, r, false)
	if rp == nil {
		return
	}
	sha := resolveRefLocked(rp, r.PathValue("ref"))
	q := r.URL.Query()
	var list []*checkRun
	for _, cr := range s.checkRuns {
		if cr.repo != rp || (cr.headSHA != sha && (len(sha) < 7 || cr.headSHA[:len(sha)] != sha)) {
			continue
		}
		if n := q.Get("check_name"); n != "" && cr.name != n {
			continue
		}
		if st := q.Get("status"); st != "" && cr.status != st {
			continue
		}
		list = append(list, cr)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].id > list[j].id })
	u := urlsOf(r)
	out := []obj{}
	for _, cr := range paginate(w, r, list) {
		out = append(out, s.checkRunJSON(u, cr))
	}
	writeJSON(w, http.StatusOK, obj{"total_count": len(list), "check_runs": out})
}
