package drift

import (
	"testing"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

func TestStatus(t *testing.T) {
	for status, want := range map[templates.ProjectStatus]string{
		templates.StatusPlanned:   records.DriftDrifted,
		templates.StatusNoChanges: records.DriftInSync,
		templates.StatusPlanError: records.DriftError,
		templates.StatusSkipped:   records.DriftError,
	} {
		if got := Status(records.Outcome{Status: string(status)}); got != want {
			t.Errorf("Status(%s) = %s, want %s", status, got, want)
		}
	}
	if got := IssueLabel("app"); got != "atoll:drift:app" {
		t.Errorf("IssueLabel = %q", got)
	}
}
