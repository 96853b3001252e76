package templates

import (
	"strings"
)

// DisplayName is how the project is named to people: its Name, else
// "DIR" or "DIR (WORKSPACE)" when the workspace is not default.
func (p ProjectResult) DisplayName() string {
	if p.Name != "" {
		return p.Name
	}
	dir := p.Dir
	if dir == "" {
		dir = "."
	}
	if p.Workspace != "" && p.Workspace != "default" {
		return dir + " (" + p.Workspace + ")"
	}
	return dir
}

// WorkspaceName is Workspace, or "default" when empty.
func (p ProjectResult) WorkspaceName() string {
	if p.Workspace == "" {
		return "default"
	}
	return p.Workspace
}

// Target is the command-line selector of the project: "-p NAME", else
// "-d DIR" with "-w WORKSPACE" when the workspace is not default.
func (p ProjectResult) Target() string {
	if p.Name != "" {
		return "-p " + p.Name
	}
	dir := p.Dir
	if dir == "" {
		dir = "."
	}
	t := "-d " + dir
	if p.Workspace != "" && p.Workspace != "default" {
		t += " -w " + p.Workspace
	}
	return t
}

// HasCounts reports whether the add/change/destroy counts mean something
// for the status (a plan was made).
func (p ProjectResult) HasCounts() bool {
	switch p.Status {
	case StatusPlanned, StatusNoChanges, StatusApplying, StatusApplied, StatusApplyFailed, StatusRefused:
		return true
	}
	return false
}

// HasChanges reports whether the plan changes anything: resources added,
// changed, destroyed, imported or moved.
func (p ProjectResult) HasChanges() bool {
	return p.Add+p.Change+p.Destroy+p.Import > 0 || len(p.Moves) > 0 ||
		len(p.Creates)+len(p.Updates)+len(p.Deletes)+len(p.Replaces)+len(p.Imports) > 0
}

// Finished reports whether the project has reached a final state.
func (p ProjectResult) Finished() bool {
	switch p.Status {
	case StatusQueued, StatusRunning, StatusApplying:
		return false
	}
	return true
}

// Failed reports whether the project ended in an error.
func (p ProjectResult) Failed() bool {
	return p.Status == StatusPlanError || p.Status == StatusApplyFailed
}

// PlanLine is terraform's own "Plan: ..." line when PlanText has one,
// verbatim, or "" when there is none (counts.tmpl then says the counts
// in atoll's words, plan_counts.tmpl).
func (p ProjectResult) PlanLine() string {
	return lastLineWithPrefix(p.PlanText, "Plan: ")
}

// ApplyLine is the "Apply complete! Resources: ..." line of ApplyOutput,
// verbatim, or "" when there is none.
func (p ProjectResult) ApplyLine() string {
	return lastLineWithPrefix(p.ApplyOutput, "Apply complete!")
}

// Destroyed is every address the plan destroys: deletes, then replaces
// (a replace destroys too).
func (p ProjectResult) Destroyed() []string {
	out := make([]string, 0, len(p.Deletes)+len(p.Replaces))
	out = append(out, p.Deletes...)
	return append(out, p.Replaces...)
}

// Destroys is the number of resources destroyed: Destroy, or the number of
// addresses in Deletes and Replaces when that is larger.
func (p ProjectResult) Destroys() int {
	return max(p.Destroy, len(p.Deletes)+len(p.Replaces))
}

// ResourceCount is how many resource addresses the action lists hold.
func (p ProjectResult) ResourceCount() int {
	return len(p.Creates) + len(p.Updates) + len(p.Deletes) + len(p.Replaces) + len(p.Imports) + len(p.Moves)
}

// PolicyBlocked reports whether a mandatory policy set failed or errored
// and is not approved: the apply will be refused until owners approve.
// Advisory sets never block.
func (p ProjectResult) PolicyBlocked() bool {
	return len(p.BlockingPolicySets()) > 0
}

// BlockingPolicySets names the mandatory policy sets that failed or
// errored and are not approved.
func (p ProjectResult) BlockingPolicySets() []string {
	var out []string
	for _, r := range p.Policies {
		if (r.Status == PolicyFailed || r.Status == PolicyError) && r.Enforcement != "advisory" {
			out = append(out, r.Set)
		}
	}
	return out
}

// Approvable reports whether the set's failure can be approved by owners.
func (r PolicyResult) Approvable() bool {
	return r.Status == PolicyFailed && len(r.Owners) > 0
}

// lastLineWithPrefix returns the last line of s whose text, trimmed of
// leading spaces, starts with prefix; trailing spaces are trimmed.
func lastLineWithPrefix(s, prefix string) string {
	for s != "" {
		i := strings.LastIndexByte(strings.TrimRight(s, "\n"), '\n')
		line := s[i+1:]
		if t := strings.TrimSpace(line); strings.HasPrefix(t, prefix) {
			return t
		}
		if i < 0 {
			break
		}
		s = s[:i]
	}
	return ""
}

// Section is what project.tmpl gets: one project, its place in the output
// and its plan prepared for display.
type Section struct {
	ProjectResult
	// Anchor is the HTML id of the section ("" when there is no link to
	// it). The summary table links to "#"+Anchor.
	Anchor string
	// Command is the command of the run ("plan", "apply",
	// "approve_policies"; "drift" in a drift issue, "check" in a check).
	Command string
	// Heading is set when the section needs its own heading (several
	// projects in one comment).
	Heading bool
	// Done is set when the run has finished (next steps are shown).
	Done bool
	// Diff is the plan (without the drift note) formatted for a ```diff
	// block, cut to the cap; "" when there is none to show.
	Diff string
	// DriftDiff is the "Objects have changed outside of Terraform" note,
	// formatted the same way.
	DriftDiff string
	// PlanLines is the number of lines of the whole plan; PlanCut the number
	// of lines cut from the end to stay under the cap.
	PlanLines, PlanCut int
}

// newSection prepares p for display. maxPlan caps the plan text in
// characters (<0: no cap).
func newSection(p ProjectResult, anchor, command string, heading, done bool, maxPlan int) Section {
	s := Section{ProjectResult: p, Anchor: anchor, Command: command, Heading: heading, Done: done}
	if p.SummaryOnly {
		return s
	}
	found, plan := SplitDrift(p.PlanText)
	drift := p.DriftText
	if drift == "" {
		drift = found
	}
	plan = strings.Trim(plan, "\n")
	drift = strings.Trim(drift, "\n")
	if plan != "" {
		s.PlanLines = strings.Count(plan, "\n") + 1
		if maxPlan >= 0 && len(plan) > maxPlan {
			plan = cutAtLine(plan, maxPlan)
			s.PlanCut = s.PlanLines - (strings.Count(plan, "\n") + 1)
			if plan == "" {
				s.PlanCut = s.PlanLines
			}
		}
		s.Diff = DiffFormat(plan)
	}
	if drift != "" {
		if maxPlan >= 0 && len(drift) > maxPlan {
			drift = cutAtLine(drift, maxPlan) + "\n… (cut: see the job page for the rest)"
		}
		s.DriftDiff = DiffFormat(drift)
	}
	return s
}

// cutAtLine returns the longest prefix of s, ending at a line end, no
// longer than n characters.
func cutAtLine(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := strings.LastIndexByte(s[:n+1], '\n')
	if i < 0 {
		return ""
	}
	return s[:i]
}

// sectionAnchor builds a stable HTML id for a project in a run.
func sectionAnchor(runID string, p ProjectResult) string {
	return "atoll-" + slug(runID) + "-" + slug(p.DisplayName())
}

// slug keeps letters, digits, '-' and '_', replacing runs of anything else
// by one '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-'
		if !ok {
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		b.WriteRune(r)
		dash = false
	}
	return strings.TrimRight(b.String(), "-")
}
