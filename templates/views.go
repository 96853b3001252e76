package templates

import (
	"fmt"
	"strings"
)

// CommentView is what command_comment.tmpl gets: the CommandComment and
// what the renderer worked out from it.
type CommentView struct {
	CommandComment
	// Table is set when there are several projects: a summary table comes
	// first and each section has a heading and an anchor.
	Table bool
	// Rows are the projects of the summary table: every project except the
	// NoChanges ones, in order.
	Rows []Section
	// Sections are the projects shown in a section of their own, in order:
	// the Rows, less those still queued or running when there is a table.
	Sections []Section
	// NoChanges are projects whose plan has no changes (and nothing else to
	// say): they share one line.
	NoChanges []ProjectResult
	// Finished is how many projects have reached a final state.
	Finished int
	// Destroying are the projects whose plan destroys resources.
	Destroying []ProjectResult
	// Applicable are planned projects with changes: next steps offer
	// `atoll apply` for them.
	Applicable []ProjectResult
	// PolicyBlocked are projects with a failed policy set not yet approved.
	PolicyBlocked []ProjectResult
	// Failed are projects that ended in an error.
	Failed []ProjectResult
	// HoldsLocks is set when this PR holds locks from the run (a project
	// was planned), so `atoll unlock` has something to release.
	HoldsLocks bool
}

// Tally counts the projects by status in words, e.g. "2 planned, 1 with
// no changes, 1 failed".
func (v CommentView) Tally() string {
	order := []ProjectStatus{StatusPlanned, StatusNoChanges, StatusApplied, StatusPlanError, StatusApplyFailed,
		StatusLocked, StatusRefused, StatusInterrupted, StatusSkipped, StatusApplying, StatusRunning, StatusQueued}
	words := map[ProjectStatus]string{StatusPlanned: "planned", StatusNoChanges: "with no changes",
		StatusApplied: "applied", StatusPlanError: "failed", StatusApplyFailed: "failed to apply",
		StatusLocked: "locked", StatusRefused: "refused", StatusInterrupted: "interrupted",
		StatusSkipped: "skipped", StatusApplying: "applying", StatusRunning: "running", StatusQueued: "queued"}
	n := map[ProjectStatus]int{}
	for _, p := range v.Projects {
		n[p.Status]++
	}
	var parts []string
	for _, st := range order {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], words[st]))
		}
	}
	return strings.Join(parts, ", ")
}

func newCommentView(c CommandComment) CommentView {
	v := CommentView{CommandComment: c, Table: len(c.Projects) > 1}
	maxPlan := c.MaxPlanChars
	if maxPlan == 0 {
		maxPlan = DefaultMaxPlanChars
	}
	for _, p := range c.Projects {
		anchor := ""
		if v.Table {
			anchor = sectionAnchor(c.ID, p)
		}
		s := newSection(p, anchor, c.Command, true, c.Status == RunDone, maxPlan)
		if p.Finished() {
			v.Finished++
		}
		if p.Status == StatusNoChanges && s.DriftDiff == "" && len(p.Policies) == 0 &&
			len(p.Unmet) == 0 && p.ApplyOutput == "" {
			v.NoChanges = append(v.NoChanges, p)
		} else {
			v.Rows = append(v.Rows, s)
			if !v.Table || p.Finished() {
				v.Sections = append(v.Sections, s)
			}
		}
		if p.HasCounts() && p.Destroys() > 0 && p.Status != StatusApplied {
			v.Destroying = append(v.Destroying, p)
		}
		if p.Status == StatusPlanned && p.HasChanges() {
			v.Applicable = append(v.Applicable, p)
		}
		if p.PolicyBlocked() {
			v.PolicyBlocked = append(v.PolicyBlocked, p)
		}
		if p.Failed() {
			v.Failed = append(v.Failed, p)
		}
		if p.Status == StatusPlanned || p.Status == StatusNoChanges {
			v.HoldsLocks = true
		}
	}
	return v
}

// DriftIssueView is what drift_issue_title.tmpl and drift_issue.tmpl get.
type DriftIssueView struct {
	DriftIssue
	// Section is the drifted project prepared for display.
	Section Section
}

func newDriftIssueView(d DriftIssue, maxPlan int) DriftIssueView {
	return DriftIssueView{DriftIssue: d, Section: newSection(d.Project, "", "drift", false, true, maxPlan)}
}

// CheckView is what check_title.tmpl and check_summary.tmpl get.
type CheckView struct {
	CheckSummary
	// Name is the check run's name, e.g. "atoll/plan: app".
	Name string
	// Section is the project prepared for display.
	Section Section
}

func newCheckView(c CheckSummary, maxPlan int) CheckView {
	return CheckView{
		CheckSummary: c,
		Name:         CheckName(c.Stage, c.Project.DisplayName()),
		Section:      newSection(c.Project, "", "check", false, true, maxPlan),
	}
}
