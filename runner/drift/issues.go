package drift

import (
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

// LabelDrift is the label of every drift issue.
const LabelDrift = "atoll:drift"

// IssueLabel is the label of project's drift issue, by which it is found
// again: one open drift issue a project.
func IssueLabel(project string) string { return LabelDrift + ":" + project }

// Status is the drift status a drift check's outcome reports: drifted
// when its plan has changes, in sync when it has none, an error
// otherwise (a check that could not plan says nothing of drift).
func Status(o records.Outcome) string {
	switch templates.ProjectStatus(o.Status) {
	case templates.StatusPlanned:
		return records.DriftDrifted
	case templates.StatusNoChanges:
		return records.DriftInSync
	}
	return records.DriftError
}
