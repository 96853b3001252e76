package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/discovery"
)

func relaxingServer() Server {
	s := DefaultServer()
	s.RepoMayRelax = []Requirement{Approved}
	s.Automerge.Enabled = true
	s.Drift.RepoOverride = true
	s.RequiredReviewers = []ReviewerRule{{Teams: []string{"acme/sec"}, Count: 1, Paths: []string{"**/iam*.tf"}}}
	return s
}

func TestParseRepoValid(t *testing.T) {
	src := `# atoll.yaml
version: 1
apply_mode: both
apply_requirements: [undiverged]
required_reviewers:
  - teams: [acme/platform]
automerge: false
ignore: ["docs/**"]
drift:
  schedule: "@hourly"
projects:
  - dir: envs/prod/
    workspace: default
    apply_requirements: ["!approved"]
    required_reviewers:
      - paths: ["*.tf"]
        teams: [acme/prod-owners]
        count: 2
  - name: staging
    dir: ./envs/staging
    terraform_version: "~> 1.5"
    distribution: opentofu
    autoplan:
      enabled: false
      when_modified: ["*.tf", "../../modules/**"]
    var_files: [staging.tfvars, ../common.tfvars]
    auto_remediate: true
  - dir: envs/prod
    workspace: eu
  - dir: .
`
	srv := relaxingServer()
	r, err := ParseRepo("atoll.yaml", []byte(src), srv)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, p := range r.Projects {
		names = append(names, p.Name)
	}
	if want := []string{"envs/prod", "staging", "envs/prod:eu", "."}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}
	prod, staging := r.Projects[0], r.Projects[1]
	if prod.Dir != "envs/prod" || prod.Workspace != "default" || !prod.Autoplan.Enabled {
		t.Errorf("prod defaults: %+v", prod)
	}
	if !reflect.DeepEqual(prod.Autoplan.WhenModified, discovery.DefaultWhenModified()) {
		t.Errorf("prod when_modified = %q", prod.Autoplan.WhenModified)
	}
	if staging.Dir != "envs/staging" || staging.Autoplan.Enabled || !staging.AutoRemediate {
		t.Errorf("staging: %+v", staging)
	}
	if got := prod.ApplyRequirements; !reflect.DeepEqual(got, []string{"undiverged", "!approved"}) {
		t.Errorf("prod requirements (repo level first) = %q", got)
	}
	if got := prod.EffectiveApplyRequirements(srv); !reflect.DeepEqual(got, []Requirement{Mergeable, Undiverged, PoliciesPassed}) {
		t.Errorf("prod effective requirements = %q", got)
	}
	if got := staging.EffectiveApplyRequirements(srv); !reflect.DeepEqual(got, []Requirement{Approved, Mergeable, Undiverged, PoliciesPassed}) {
		t.Errorf("staging effective requirements = %q", got)
	}
	wantRules := []ReviewerRule{
		{Teams: []string{"acme/sec"}, Count: 1, Paths: []string{"**/iam*.tf"}},
		{Teams: []string{"acme/platform"}, Count: 1},
		{Teams: []string{"acme/prod-owners"}, Count: 2, Paths: []string{"envs/prod/*.tf"}},
	}
	if got := prod.EffectiveRequiredReviewers(srv); !reflect.DeepEqual(got, wantRules) {
		t.Errorf("prod reviewers = %+v\nwant %+v", got, wantRules)
	}
	if staging.EffectiveDistribution(srv) != "opentofu" || prod.EffectiveDistribution(srv) != "terraform" {
		t.Error("EffectiveDistribution")
	}
	if staging.EffectiveTerraformVersion(srv) != "~> 1.5" {
		t.Error("EffectiveTerraformVersion")
	}
	if r.EffectiveApplyMode(srv) != ApplyBoth || r.AutomergeEnabled(srv) {
		t.Errorf("apply mode %q, automerge %v", r.EffectiveApplyMode(srv), r.AutomergeEnabled(srv))
	}
	if sched, on := r.DriftSchedule(srv); sched != "@hourly" || on {
		t.Errorf("drift = %q %v, want the repo's schedule, off like the server", sched, on)
	}
	if p, ok := r.Project("staging"); !ok || p.Dir != "envs/staging" {
		t.Error("Project(staging)")
	}
	o := r.DiscoveryOptions()
	if len(o.Configured) != 4 || !o.Configured[1].AutoplanDisabled || o.Ignore[0] != "docs/**" {
		t.Errorf("DiscoveryOptions = %+v", o)
	}
	d := r.DefaultProject("envs/x")
	if d.Name != "envs/x" || d.Workspace != "default" || !reflect.DeepEqual(d.ApplyRequirements, []string{"undiverged"}) || len(d.RequiredReviewers) != 1 {
		t.Errorf("DefaultProject = %+v", d)
	}
}

func TestParseRepoErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		srv  Server
		want []string
	}{
		{"not a mapping", "- a\n", DefaultServer(), []string{"atoll.yaml:1:1: expected a mapping, got a list"}},
		{"bad version", "version: 2\n", DefaultServer(), []string{"atoll.yaml:1:10: version: unsupported version 2"}},
		{"version as string", "version: one\n", DefaultServer(), []string{`atoll.yaml:1:10: version: expected an integer, got "one"`}},
		{"yaml syntax: unclosed list", "version: 1\nignore: [a, b\nprojects: []\n", DefaultServer(), []string{"atoll.yaml:2: invalid YAML: did not find expected ',' or ']'"}},
		{"yaml syntax: unclosed list on line 1", "ignore: [a, b\n", DefaultServer(), []string{"atoll.yaml:2: invalid YAML: did not find expected ',' or ']'"}},
		{"yaml syntax: missing colon", "version: 1\nprojects:\n- dir: a\n  bad\n", DefaultServer(), []string{"atoll.yaml:4: invalid YAML: could not find expected ':'"}},
		{"yaml syntax: unterminated string", "version: 1\nprojects:\n  - dir: \"a\n", DefaultServer(), []string{"atoll.yaml:3: invalid YAML: found unexpected end of stream"}},
		{"tabs", "version: 1\n\tprojects: []\n", DefaultServer(), []string{"atoll.yaml:2: invalid YAML"}},
		{"two documents", "version: 1\n---\nversion: 1\n", DefaultServer(), []string{"only one YAML document"}},
		{"unknown keys", "version: 1\nprojcts: []\nprojects:\n  - dir: a\n    autoplan:\n      when_modifed: []\n", DefaultServer(), []string{
			`atoll.yaml:2:1: unknown key "projcts" (did you mean "projects"?)`,
			`atoll.yaml:6:7: projects[0].autoplan: unknown key "when_modifed" (did you mean "when_modified"?)`}},
		{"duplicate key", "version: 1\nversion: 1\n", DefaultServer(), []string{`atoll.yaml:2:1: version: duplicate key "version"`}},
		{"wrong types", "version: 1\nignore: docs\nprojects:\n  dir: a\n", DefaultServer(), []string{
			`atoll.yaml:2:9: ignore: expected a list, got "docs"`,
			`atoll.yaml:4:3: projects: expected a list, got a mapping`}},
		{"dirs", "version: 1\nprojects:\n  - dir: ../x\n  - dir: /abs\n  - workspace: w\n  - dir: 'a\\b'\n", DefaultServer(), []string{
			`atoll.yaml:3:10: projects[0].dir: dir "../x" is outside the repository`,
			`atoll.yaml:4:10: projects[1].dir: dir "/abs" must be relative`,
			`atoll.yaml:5:5: projects[2].dir: required`,
			`projects[3].dir: dir "a\\b" must be relative`}},
		{"duplicates", "version: 1\nprojects:\n  - dir: a\n  - dir: ./a/\n    name: other\n  - name: other\n    dir: b\n", DefaultServer(), []string{
			`atoll.yaml:4:5: projects[1]: dir "a" with workspace "default" is already projects[0]`,
			`atoll.yaml:6:11: projects[2].name: project name "other" is already used by projects[1]`}},
		{"default name collides", "version: 1\nprojects:\n  - name: envs/a\n    dir: x\n  - dir: envs/a\n", DefaultServer(), []string{
			`projects[1].name: project name "envs/a" is already used by projects[0]`}},
		{"bad names and workspace", "version: 1\nprojects:\n  - name: -p\n    dir: a\n  - name: has space\n    dir: b\n  - dir: c\n    workspace: a/b\n", DefaultServer(), []string{
			`projects[0].name: invalid project name "-p"`,
			`projects[1].name: invalid project name "has space"`,
			`projects[2].workspace: invalid workspace name "a/b"`}},
		{"requirements", "version: 1\napply_requirements: [\"!mergeable\"]\nprojects:\n  - dir: a\n    apply_requirements: [reviewed, \"!policies_passed\", \"!approved\", undiverged, \"!undiverged\"]\n", DefaultServer(), []string{
			`atoll.yaml:2:22: apply_requirements[0]: removing "mergeable" would loosen what the server config fixes`,
			`atoll.yaml:5:26: projects[0].apply_requirements[0]: unknown requirement "reviewed"`,
			`atoll.yaml:5:36: projects[0].apply_requirements[1]: policies_passed can never be removed`,
			`atoll.yaml:5:56: projects[0].apply_requirements[2]: removing "approved" would loosen what the server config fixes`,
			`projects[0].apply_requirements[4]: "projects[0].apply_requirements" both adds and removes "undiverged"`}},
		{"server-gated settings", "version: 1\nautomerge: true\ndrift:\n  schedule: '@hourly'\n", DefaultServer(), []string{
			`atoll.yaml:2:12: automerge: automerge is not enabled on this server`,
			`atoll.yaml:4:3: drift: this server does not let repositories change drift detection`}},
		{"bad schedule", "version: 1\ndrift:\n  schedule: 'at noon'\n", relaxingServer(), []string{`atoll.yaml:3:13: drift.schedule: invalid cron schedule "at noon"`}},
		{"misc values", "version: 1\napply_mode: never\nignore: ['[x']\nprojects:\n  - dir: a\n    terraform_version: latest\n    distribution: pulumi\n    autoplan: {when_modified: ['a/[']}\n    var_files: [/etc/x.tfvars, ../../../x.tfvars]\n    required_reviewers:\n      - teams: [nope]\n        count: 0\n", DefaultServer(), []string{
			`apply_mode: unknown apply mode "never"`,
			`ignore[0]: glob "[x"`,
			`projects[0].terraform_version: invalid version constraint "latest"`,
			`projects[0].distribution: unknown value "pulumi"`,
			`projects[0].autoplan.when_modified[0]: glob "a/["`,
			`projects[0].var_files[0]: invalid var file "/etc/x.tfvars"`,
			`projects[0].var_files[1]: var file "../../../x.tfvars" is outside the repository`,
			`projects[0].required_reviewers[0].teams[0]: invalid team "nope"`,
			`atoll.yaml:12:16: projects[0].required_reviewers[0].count: must be at least 1, got 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRepo("atoll.yaml", []byte(tt.src), tt.srv)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			text := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("error does not contain %q:\n%s", w, text)
				}
			}
			if len(verr.Errors) < len(tt.want) {
				t.Errorf("%d errors, want at least %d:\n%s", len(verr.Errors), len(tt.want), text)
			}
		})
	}
}

// TestParseRepoCollectsAll checks the exact output: every error, in file
// order, one per line.
func TestParseRepoCollectsAll(t *testing.T) {
	src := `version: 1
projects:
  - dir: a
    worksapce: x
  - dir: b
    autoplan:
      enabled: maybe
    apply_requirements: ["!approved"]
`
	_, err := ParseRepo("atoll.yaml", []byte(src), DefaultServer())
	want := `atoll.yaml:4:5: projects[0]: unknown key "worksapce" (did you mean "workspace"?)
atoll.yaml:7:16: projects[1].autoplan.enabled: expected true or false, got "maybe"
atoll.yaml:8:26: projects[1].apply_requirements[0]: removing "approved" would loosen what the server config fixes (its repo_may_relax does not list "approved")`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestParseRepoAnchors(t *testing.T) {
	src := `version: 1
x-common: &common
  dir: a
projects:
  - <<: *common
    name: one
  - <<: *common
    workspace: two
`
	_, err := ParseRepo("atoll.yaml", []byte(src), DefaultServer())
	if err == nil || !strings.Contains(err.Error(), `unknown key "x-common"`) {
		t.Fatalf("want the unknown key reported, got %v", err)
	}
	src = `version: 1
projects:
  - &p
    dir: a
    when: x
  - <<: *p
    workspace: two
`
	_, err = ParseRepo("atoll.yaml", []byte(src), DefaultServer())
	if err == nil || !strings.Contains(err.Error(), `projects[1]: unknown key "when"`) {
		t.Fatalf("merged keys are checked too, got %v", err)
	}
	src = "version: 1\nprojects:\n  - &p\n    dir: a\n  - <<: *p\n    workspace: two\n"
	r, err := ParseRepo("atoll.yaml", []byte(src), DefaultServer())
	if err != nil {
		t.Fatal(err)
	}
	if r.Projects[1].Dir != "a" || r.Projects[1].Workspace != "two" {
		t.Errorf("merge key: %+v", r.Projects[1])
	}
}

func TestParseRepoAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("ignore: *a8\n")
	_, err := ParseRepo("atoll.yaml", []byte(b.String()), DefaultServer())
	if err == nil {
		t.Fatal("alias bomb accepted")
	}
}

func TestEffectiveApplyRequirements(t *testing.T) {
	srv := DefaultServer()
	srv.ApplyRequirements = []Requirement{Approved, Mergeable}
	srv.RepoMayRelax = []Requirement{Mergeable}
	tests := []struct {
		list []string
		want []Requirement
	}{
		{nil, []Requirement{Approved, Mergeable, PoliciesPassed}},
		{[]string{"undiverged"}, []Requirement{Approved, Mergeable, Undiverged, PoliciesPassed}},
		{[]string{"!mergeable"}, []Requirement{Approved, PoliciesPassed}},
		{[]string{"!mergeable", "mergeable"}, []Requirement{Approved, Mergeable, PoliciesPassed}},
		// not allowed removals are ignored (ParseRepo refuses them anyway)
		{[]string{"!approved", "!policies_passed"}, []Requirement{Approved, Mergeable, PoliciesPassed}},
	}
	for _, tt := range tests {
		got := Project{ApplyRequirements: tt.list}.EffectiveApplyRequirements(srv)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.list, got, tt.want)
		}
	}
}

func TestRepoServerGates(t *testing.T) {
	on, off := true, false
	srv := DefaultServer()
	srv.Drift.Enabled, srv.Drift.Schedule = true, "@daily"
	if (Repo{}).AutomergeEnabled(srv) {
		t.Error("automerge on while the server disables it")
	}
	srv.Automerge.Enabled = true
	if !(Repo{}).AutomergeEnabled(srv) || (Repo{Automerge: &off}).AutomergeEnabled(srv) {
		t.Error("automerge: server default or repo opt-out not honoured")
	}
	r := Repo{Drift: RepoDrift{Enabled: &off, Schedule: "@hourly"}}
	if s, on := r.DriftSchedule(srv); s != "@daily" || !on {
		t.Errorf("without repo_override the server decides, got %q %v", s, on)
	}
	srv.Drift.RepoOverride = true
	if _, on := r.DriftSchedule(srv); on {
		t.Error("repo could not turn drift off")
	}
	r.Drift.Enabled = &on
	if s, _ := r.DriftSchedule(srv); s != "@hourly" {
		t.Errorf("schedule = %q", s)
	}
	if !(Repo{SummaryOnly: true}).SummaryOnlyEnabled(srv) {
		t.Error("SummaryOnlyEnabled")
	}
}

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "atoll.yaml")
	if err := os.WriteFile(good, []byte("version: 1\nprojects:\n  - dir: .\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := Validate(good, &out); code != 0 || out.String() != good+": ok\n" {
		t.Errorf("good file: code %d, output %q", code, out.String())
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nprojects:\n  - dir: ..\n    nme: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := Validate(bad, &out); code != 1 || strings.Count(out.String(), "\n") != 2 || !strings.HasPrefix(out.String(), bad+":3:10: projects[0].dir:") {
		t.Errorf("bad file: code %d, output %q", code, out.String())
	}
	out.Reset()
	t.Chdir(dir)
	if code := Validate("", &out); code != 0 || out.String() != "atoll.yaml: ok\n" {
		t.Errorf("default path: code %d, output %q", code, out.String())
	}
	out.Reset()
	if code := Validate("missing.yaml", &out); code != 1 || out.String() != "missing.yaml: no such file\n" {
		t.Errorf("missing file: code %d, output %q", code, out.String())
	}
}

func FuzzParseRepo(f *testing.F) {
	seeds := []string{
		"version: 1\nprojects:\n  - dir: a\n    apply_requirements: ['!approved']\n",
		"version: 1\nprojects:\n  - &p {dir: a}\n  - <<: *p\n    workspace: b\n",
		"version: 1\ndrift: {schedule: '@hourly'}\nautomerge: true\nignore: ['**']\n",
		"a: &a [*a]",
		"version: [1]\nprojects: {}\n",
		"- - - -",
		"version: 1\nprojects:\n  - dir: x\n    autoplan: {enabled: false, when_modified: ['../**']}\n    required_reviewers: [{teams: [a/b], paths: ['*']}]\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	srv := relaxingServer()
	f.Fuzz(func(t *testing.T, src string) {
		r, err := ParseRepo("atoll.yaml", []byte(src), srv)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Errors) == 0 {
				t.Fatalf("error %v is not a non-empty *ValidationError", err)
			}
			return
		}
		names := map[string]bool{}
		for _, p := range r.Projects {
			if names[p.Name] || p.Name == "" || p.Workspace == "" {
				t.Fatalf("bad project after a successful parse: %+v", p)
			}
			names[p.Name] = true
			if p.Dir == ".." || strings.HasPrefix(p.Dir, "../") || strings.HasPrefix(p.Dir, "/") {
				t.Fatalf("dir escapes: %q", p.Dir)
			}
			p.EffectiveApplyRequirements(srv)
		}
	})
}

// A file without a version (even an empty one) is read as version 1.
func TestParseRepoVersionDefaultsToOne(t *testing.T) {
	for _, doc := range []string{"", "# nothing\n", "apply_mode: after_merge\n"} {
		r, err := ParseRepo("atoll.yaml", []byte(doc), DefaultServer())
		if err != nil {
			t.Errorf("ParseRepo(%q) = %v, want no error", doc, err)
			continue
		}
		if doc == "apply_mode: after_merge\n" && r.ApplyMode != ApplyAfterMerge {
			t.Errorf("apply_mode = %q, want after_merge", r.ApplyMode)
		}
	}
}
