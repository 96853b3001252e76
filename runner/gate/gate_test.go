package gate

import (
	"path"
	"reflect"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/config"
)

func codes(d Decision) []Code {
	var out []Code
	for _, r := range d.Reasons {
		out = append(out, r.Code)
	}
	return out
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func baseInput() Input {
	return Input{
		Path: PathComment, Project: "prod",
		Rules: Rules{BaseName: "prod", Requirements: []string{ReqApproved, ReqMergeable}},
		Plan:  &Plan{HeadSHA: "h1", BaseSHA: "b1", FileMatches: true, Created: t0},
		PR: &PR{Author: "alice", HeadSHA: "h1", BaseRef: "main", BaseHead: "b1", CheckBase: true,
			MergeableState: "clean", Undiverged: true, OwnChecks: "atoll/"},
		Approvals: 1, DismissStale: true,
		Reviews: []Review{{User: "bob", Approved: true, CommitID: "h1", SubmittedAt: t0.Add(time.Minute), Permission: "write"}},
		Match:   func(g, p string) bool { ok, _ := path.Match(g, p); return ok },
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Input)
		want   []Code
	}{
		{"all met", func(*Input) {}, nil},
		{"no review", func(in *Input) { in.Reviews = nil }, []Code{CodeApproved}},
		{"author's own approval", func(in *Input) { in.Reviews[0].User = "ALICE" }, []Code{CodeApproved}},
		{"reader's approval", func(in *Input) { in.Reviews[0].Permission = "read" }, []Code{CodeApproved}},
		{"triage's approval", func(in *Input) { in.Reviews[0].Permission = "triage" }, []Code{CodeApproved}},
		{"admin's approval", func(in *Input) { in.Reviews[0].Permission = "admin" }, nil},
		{"changes requested", func(in *Input) { in.Reviews[0].Approved = false }, []Code{CodeApproved}},
		{"stale approval dismissed", func(in *Input) { in.Reviews[0].CommitID = "h0" }, []Code{CodeApproved}},
		{"stale approval kept", func(in *Input) { in.Reviews[0].CommitID = "h0"; in.DismissStale = false }, nil},
		{"two approvals needed", func(in *Input) { in.Approvals = 2 }, []Code{CodeApproved}},
		{"approved relaxed", func(in *Input) { in.Rules.Requirements = []string{ReqMergeable}; in.Reviews = nil }, nil},
		{"destroy plan approved before", func(in *Input) {
			in.Plan.ExtraArgs = []string{"-destroy"}
			in.Reviews[0].SubmittedAt = t0.Add(-time.Minute)
		}, []Code{CodeApproved}},
		{"destroy plan approved after", func(in *Input) { in.Plan.ExtraArgs = []string{"-destroy"} }, nil},
		{"destroy plan approved in its second", func(in *Input) {
			in.Plan.ExtraArgs = []string{"-destroy"}
			in.Plan.Created = t0.Add(500 * time.Millisecond)
			in.Reviews[0].SubmittedAt = t0
		}, []Code{CodeApproved}},
		{"target plan with approved relaxed", func(in *Input) {
			in.Plan.ExtraArgs = []string{"-target=terraform_data.a"}
			in.Rules.Requirements = nil
			in.Reviews = nil
		}, []Code{CodeApproved}},
		{"harmless args", func(in *Input) {
			in.Plan.ExtraArgs = []string{"-parallelism=2"}
			in.Reviews[0].SubmittedAt = t0.Add(-time.Minute)
		}, nil},
		{"stale plan", func(in *Input) { in.PR.HeadSHA = "h2" }, []Code{CodePlanStale}},
		{"base moved", func(in *Input) { in.PR.BaseHead = "b2" }, []Code{CodeBaseMoved}},
		{"base moved, branch strategy", func(in *Input) { in.PR.BaseHead = "b2"; in.PR.CheckBase = false }, nil},
		{"plan file changed", func(in *Input) { in.Plan.FileMatches = false }, []Code{CodePlanFile}},
		{"conflicts", func(in *Input) { f := false; in.PR.Mergeable = &f }, []Code{CodeMergeable}},
		{"blocked, no atoll check to blame", func(in *Input) { in.PR.MergeableState = "blocked" }, []Code{CodeMergeable}},
		{"blocked by atoll's check only", func(in *Input) {
			in.PR.MergeableState = "blocked"
			in.PR.RequiredChecks = []string{"atoll/apply: prod", "ci"}
			in.PR.Checks = []Check{{Name: "ci", Passing: true}}
		}, nil},
		{"blocked by a required check not started", func(in *Input) {
			in.PR.MergeableState = "blocked"
			in.PR.RequiredChecks = []string{"atoll/apply: prod", "ci"}
		}, []Code{CodeMergeable}},
		{"unstable by atoll's check", func(in *Input) {
			in.PR.MergeableState = "unstable"
			in.PR.Checks = []Check{{Name: "atoll/plan: prod"}}
		}, nil},
		{"unstable by lint", func(in *Input) {
			in.PR.MergeableState = "unstable"
			in.PR.Checks = []Check{{Name: "lint"}}
		}, []Code{CodeMergeable}},
		{"behind", func(in *Input) { in.PR.MergeableState = "behind" }, []Code{CodeMergeable}},
		{"merged ignores mergeable", func(in *Input) { in.PR.MergeableState = "unknown"; in.PR.Merged = true; in.Plan = nil }, nil},
		{"diverged", func(in *Input) {
			in.Rules.Requirements = append(in.Rules.Requirements, ReqUndiverged)
			in.PR.Undiverged = false
		}, []Code{CodeUndiverged}},
		{"reviewer team missing", func(in *Input) {
			in.Rules.Reviewers = []ReviewerRule{{ReviewerRule: config.ReviewerRule{Teams: []string{"acme/sec"}, Count: 1}, Origin: "atoll.yaml"}}
		}, []Code{CodeReviewers}},
		{"reviewer team met", func(in *Input) {
			in.Rules.Reviewers = []ReviewerRule{{ReviewerRule: config.ReviewerRule{Teams: []string{"acme/sec"}}}}
			in.Members = map[string]map[string]bool{"acme/sec": {"bob": true}}
		}, nil},
		{"reviewer rule on other paths", func(in *Input) {
			in.Rules.Reviewers = []ReviewerRule{{ReviewerRule: config.ReviewerRule{Paths: []string{"db/*"}, Teams: []string{"acme/dba"}}}}
			in.ChangedFiles = []string{"app/main.tf"}
		}, nil},
		{"code owner missing", func(in *Input) {
			in.CodeOwnersOn = true
			in.CodeOwners = []OwnedFiles{{Pattern: "/db/", Owners: []string{"carol"}, Files: []string{"db/main.tf"}}}
		}, []Code{CodeCodeOwners}},
		{"code owner team approved", func(in *Input) {
			in.CodeOwnersOn = true
			in.CodeOwners = []OwnedFiles{{Pattern: "*", Owners: []string{"acme/platform"}, Files: []string{"x"}}}
			in.Members = map[string]map[string]bool{"acme/platform": {"bob": true}}
		}, nil},
		{"codeowners unreadable", func(in *Input) { in.CodeOwnersOn = true; in.CodeOwnersErr = "boom" }, []Code{CodeCodeOwnersUnreadable}},
		{"policy failed", func(in *Input) { in.Policies = []Policy{{Set: "sec", Failed: true, Need: 1}} }, []Code{CodePolicy}},
		{"policy approved", func(in *Input) { in.Policies = []Policy{{Set: "sec", Failed: true, Approvers: []string{"sam"}}} }, nil},
		{"policy advisory", func(in *Input) { in.Policies = []Policy{{Set: "sec", Failed: true, Advisory: true}} }, nil},
		{"policy error", func(in *Input) { in.Policies = []Policy{{Set: "sec", Failed: true, Err: "x"}} }, []Code{CodePolicyError}},
		{"dependency pending", func(in *Input) { in.PendingDeps = []string{"staging"} }, []Code{CodeDependsOn}},
		{"fork not allowed", func(in *Input) { in.PR.Fork, in.PR.HeadRepo = true, "mallory/x" }, []Code{CodeFork}},
		{"fork allowed", func(in *Input) { in.PR.Fork, in.AllowForks = true, true }, nil},
		{"every reason at once", func(in *Input) {
			in.Reviews = nil
			in.PR.MergeableState = "blocked"
			in.Policies = []Policy{{Set: "sec", Failed: true}}
		}, []Code{CodeApproved, CodeMergeable, CodePolicy}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			tt.change(&in)
			d := Decide(in)
			if got := codes(d); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("reasons = %v, want %v (%+v)", got, tt.want, d.Reasons)
			}
			c, ok := d.Clearance()
			if ok != (len(tt.want) == 0) || c.Valid() != ok {
				t.Fatalf("clearance = %v, %v with reasons %v", c, ok, tt.want)
			}
			if ok && (c.Path() != PathComment || c.Project() != "prod") {
				t.Errorf("clearance for %s/%s", c.Path(), c.Project())
			}
			for _, r := range d.Reasons {
				if r.Project != "prod" {
					t.Errorf("reason %s names project %q", r.Code, r.Project)
				}
			}
		})
	}
}

func TestDecideAfterMerge(t *testing.T) {
	in := Input{Path: PathAfterMerge, Project: "prod",
		Rules:   Rules{Requirements: []string{ReqApproved, ReqMergeable}, Reviewers: []ReviewerRule{{ReviewerRule: config.ReviewerRule{Teams: []string{"acme/sec"}}}}},
		PR:      &PR{Author: "alice", HeadSHA: "h1", Merged: true, MergeableState: "unknown"},
		Reviews: nil, Approvals: 2, DismissStale: true}
	d := Decide(in)
	if got := codes(d); !reflect.DeepEqual(got, []Code{CodeApproved, CodeReviewers}) {
		t.Fatalf("reasons = %v", got)
	}
	if d.Reasons[0].Need != 2 {
		t.Errorf("need = %d", d.Reasons[0].Need)
	}
}

func TestDecideRemediation(t *testing.T) {
	ok := Remediation{PlanShown: true, PlanHead: "h", Head: "h", Applier: "alice", ApplierPermitted: true, Approvers: []string{"bob"}}
	tests := []struct {
		name   string
		path   Path
		change func(*Remediation)
		want   []Code
	}{
		{"signed off", PathRemediation, func(*Remediation) {}, nil},
		{"no plan on the issue", PathRemediation, func(r *Remediation) { r.PlanShown = false }, []Code{CodeRemediationPlan}},
		{"plan of an old head", PathRemediation, func(r *Remediation) { r.Head = "h2" }, []Code{CodeRemediationPlan}},
		{"applier without permission", PathRemediation, func(r *Remediation) { r.ApplierPermitted = false }, []Code{CodeRemediationApplier}},
		{"approved only by the applier", PathRemediation, func(r *Remediation) { r.Approvers = []string{"Alice"} }, []Code{CodeRemediationApproval}},
		{"no approval", PathRemediation, func(r *Remediation) { r.Approvers = nil }, []Code{CodeRemediationApproval}},
		{"team that remediates alone", PathRemediation, func(r *Remediation) { r.Approvers = nil; r.ApplierAlone = true }, nil},
		{"auto off", PathAutoRemediate, func(*Remediation) {}, []Code{CodeAutoRemediateOff}},
		{"auto on", PathAutoRemediate, func(r *Remediation) { r.AutoAllowed = true }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rem := ok
			tt.change(&rem)
			d := Decide(Input{Path: tt.path, Project: "prod", Rules: Rules{Requirements: []string{ReqApproved}},
				Remediation: &rem, Policies: []Policy{{Set: "sec", Failed: false}}})
			if got := codes(d); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("reasons = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestZeroClearanceIsInvalid(t *testing.T) {
	var c Clearance
	if c.Valid() {
		t.Fatal("the zero Clearance is valid")
	}
}

func TestRiskyArgs(t *testing.T) {
	got := RiskyArgs([]string{"-destroy", "-target=a.b", "--replace=x", "-var", "x=1", "-var-file=f", "-parallelism=3", "-lock=false"})
	want := []string{"-destroy", "-target=a.b", "--replace=x", "-var", "-var-file=f"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RiskyArgs = %v, want %v", got, want)
	}
}

func TestBaseRules(t *testing.T) {
	sec := ReviewerRule{ReviewerRule: config.ReviewerRule{Teams: []string{"acme/sec"}}, Origin: "atoll.yaml"}
	srv := ReviewerRule{ReviewerRule: config.ReviewerRule{Teams: []string{"acme/ops"}}, Origin: "server"}
	base := BaseConfig{
		Projects: []BaseProject{
			{Name: "prod", Dir: "prod", Requirements: []string{ReqApproved, ReqMergeable}, Reviewers: []ReviewerRule{sec}},
			{Name: "sandbox", Dir: "sandbox", Workspace: "default", Requirements: []string{ReqMergeable}},
		},
		Requirements: []string{ReqApproved}, ServerReviewers: []ReviewerRule{srv},
	}
	tests := []struct {
		name, dir, ws, prName string
		want                  Rules
	}{
		{"same", "prod", "default", "prod", Rules{BaseName: "prod", Requirements: []string{ReqApproved, ReqMergeable}, Reviewers: []ReviewerRule{srv, sec}}},
		{"renamed", "./prod/", "", "prod-renamed", Rules{BaseName: "prod", Requirements: []string{ReqApproved, ReqMergeable}, Reviewers: []ReviewerRule{srv, sec}}},
		{"renamed onto a relaxed name", "prod", "default", "sandbox", Rules{BaseName: "prod", Requirements: []string{ReqApproved, ReqMergeable}, Reviewers: []ReviewerRule{srv, sec}}},
		{"moved to a new dir", "prod2", "default", "prod", Rules{BaseName: "prod", New: true, Requirements: []string{ReqApproved}, Reviewers: []ReviewerRule{srv}}},
		{"new workspace of a listed dir", "prod", "blue", "prod:blue", Rules{BaseName: "prod", Requirements: []string{ReqApproved, ReqMergeable}, Reviewers: []ReviewerRule{srv, sec}}},
		{"new dir", "web", "default", "web", Rules{BaseName: "web", New: true, Requirements: []string{ReqApproved}, Reviewers: []ReviewerRule{srv}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BaseRules(base, tt.dir, tt.ws, tt.prName); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("BaseRules = %+v, want %+v", got, tt.want)
			}
		})
	}
	discovered := BaseConfig{Requirements: []string{ReqApproved}, DefaultName: func(d, w string) string { return d + ":" + w }}
	if got := BaseRules(discovered, "app", "blue", "renamed"); got.BaseName != "app:blue" || got.New {
		t.Errorf("discovered base: %+v", got)
	}
}
