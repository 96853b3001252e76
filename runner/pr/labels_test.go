package pr_test

import (
	"context"
	"slices"
	"testing"

	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/vcs"
)

func job(status string, del int) records.Job {
	j := records.Job{Outcome: records.Outcome{Status: status}}
	if status == "planned" {
		j.Outcome.Summary = &terraform.Summary{Create: 1, Delete: del}
	}
	return j
}

func TestLabels(t *testing.T) {
	all := []string{pr.LabelPlanError, pr.LabelDestroy, pr.LabelChanges, pr.LabelNoChanges}
	tests := []struct {
		name string
		jobs []records.Job
		want []string
	}{
		{"a destroy is loud", []records.Job{job("planned", 1), job("no_changes", 0)}, []string{pr.LabelDestroy, pr.LabelChanges}},
		{"changes", []records.Job{job("planned", 0)}, []string{pr.LabelChanges}},
		{"nothing to do", []records.Job{job("no_changes", 0), job("no_changes", 0)}, []string{pr.LabelNoChanges}},
		{"an error", []records.Job{job("plan_error", 0), job("no_changes", 0)}, []string{pr.LabelPlanError}},
		{"only locked", []records.Job{job("locked", 0)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			add, remove := pr.Labels(tc.jobs)
			if !slices.Equal(add, tc.want) {
				t.Errorf("labels %v, want %v", add, tc.want)
			}
			if tc.want == nil {
				if remove != nil {
					t.Errorf("a run that planned nothing removes %v", remove)
				}
				return
			}
			for _, l := range all {
				if slices.Contains(add, l) == slices.Contains(remove, l) {
					t.Errorf("label %s: added %v, removed %v: want exactly one", l, add, remove)
				}
			}
		})
	}
}

// setter records the labels set; no code host is needed.
type setter struct{ add, remove []string }

func (s *setter) SetLabels(_ context.Context, _ vcs.Repo, _ int, add, remove []string) error {
	s.add, s.remove = add, remove
	return nil
}

func TestSetPlanLabels(t *testing.T) {
	var s setter
	if err := pr.SetPlanLabels(context.Background(), &s, vcs.Repo{}, 3, []records.Job{job("locked", 0)}); err != nil || s.add != nil || s.remove != nil {
		t.Fatalf("a run that planned nothing set labels: %v %v %v", s.add, s.remove, err)
	}
	if err := pr.SetPlanLabels(context.Background(), &s, vcs.Repo{}, 3, []records.Job{job("planned", 0)}); err != nil ||
		!slices.Equal(s.add, []string{pr.LabelChanges}) || !slices.Equal(s.remove, []string{pr.LabelPlanError, pr.LabelDestroy, pr.LabelNoChanges}) {
		t.Errorf("set %v, removed %v, err %v", s.add, s.remove, err)
	}
}
