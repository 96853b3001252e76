package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// permissiveServer is a server whose repo_rules let repositories set the
// restricted keys of Atlantis's examples, with the server workflows those
// examples name.
func permissiveServer() Server {
	s := DefaultServer()
	yes := true
	s.Workflows = map[string]Workflow{
		"myworkflow": {}, "custom": {}, "custom1": {}, "infra": {},
		"staging":    {Plan: &Stage{Steps: []Step{{Kind: StepInit}, {Kind: StepPlan, ExtraArgs: []string{"-var-file", "staging.tfvars"}}}}},
		"production": {Plan: &Stage{Steps: []Step{{Kind: StepInit}, {Kind: StepPlan, ExtraArgs: []string{"-var-file", "production.tfvars"}}}}},
	}
	s.RepoRules = []RepoRule{{ID: "/.*/", AllowedOverrides: []string{OverrideApplyRequirements, OverrideWorkflow, OverridePolicyCheck}, AllowCustomWorkflows: &yes}}
	return s.ForRepo("acme/infra", "main")
}

// TestAtlantisDocExamples runs `atoll config validate` on every example of
// atlantis.yaml in Atlantis's documentation (testdata/atlantis-docs): each
// is accepted, or each key atoll does not act on is named with its line.
// The first line of a fixture names the server it is checked against.
// `go test ./runner/config -run TestAtlantisDocExamples -update` rewrites
// the .golden files.
func TestAtlantisDocExamples(t *testing.T) {
	files, err := filepath.Glob("testdata/atlantis-docs/*.atlantis.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			srv := DefaultServer()
			switch first, _, _ := strings.Cut(string(data), "\n"); first {
			case "# server: permissive":
				srv = permissiveServer()
			case "# server: default":
			default:
				t.Fatalf("first line %q does not name the server", first)
			}
			var out bytes.Buffer
			code := ValidateWith(f, srv, &out)
			got := out.String()
			golden := strings.TrimSuffix(f, ".atlantis.yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("validate %s (exit %d):\n%s\nwant:\n%s", f, code, got, want)
			}
			if strings.HasSuffix(strings.TrimSpace(got), ": ok") != (code == 0) {
				t.Errorf("exit code %d does not match the output", code)
			}
			for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
				if strings.HasSuffix(line, ": ok") {
					continue
				}
				// Every problem names the file, a line and a key.
				parts := strings.SplitN(line, ":", 4)
				if len(parts) < 4 || parts[0] != f || parts[1] == "" {
					t.Errorf("problem without file and line: %q", line)
				}
			}
		})
	}
}

func TestParseAtlantisMeaning(t *testing.T) {
	src := `version: 3
projects:
- name: prod
  dir: envs/prod
  branch: /^main$/
  terraform_distribution: opentofu
  terraform_version: v1.5.7
  apply_requirements: [approved]
- dir: envs/dev
  apply_requirements: [undiverged, mergeable, approved]
- dir: envs/release
  branch: /^release-/
`
	srv := DefaultServer()
	srv.RepoRules = []RepoRule{{ID: "acme/*", AllowedOverrides: []string{OverrideApplyRequirements}}}
	r, err := ParseAtlantis(AtlantisFile, []byte(src), srv.ForRepo("acme/infra", "main"))
	if err != nil {
		t.Fatal(err)
	}
	prod, dev := r.Projects[0], r.Projects[1]
	if prod.Distribution != DistributionOpenTofu || prod.TerraformVersion != "v1.5.7" {
		t.Errorf("prod: distribution %q version %q", prod.Distribution, prod.TerraformVersion)
	}
	if got := prod.EffectiveApplyRequirements(srv.ForRepo("acme/infra", "main")); !equalReqs(got, Approved, PoliciesPassed) {
		t.Errorf("prod keeps only approved (and policies_passed): %v", got)
	}
	if got := dev.EffectiveApplyRequirements(srv); !equalReqs(got, Approved, Mergeable, Undiverged, PoliciesPassed) {
		t.Errorf("dev adds undiverged: %v", got)
	}
	if want := AtlantisWhenModified(); strings.Join(dev.Autoplan.WhenModified, ",") != strings.Join(want, ",") {
		t.Errorf("when_modified default = %q, want Atlantis's %q", dev.Autoplan.WhenModified, want)
	}
	names := func(r Repo) (out []string) {
		for _, p := range r.Projects {
			out = append(out, p.Name)
		}
		return out
	}
	if got := strings.Join(names(r.ForBranch("main")), ","); got != "prod,envs/dev" {
		t.Errorf("projects for main = %s", got)
	}
	if got := strings.Join(names(r.ForBranch("release-1")), ","); got != "envs/dev,envs/release" {
		t.Errorf("projects for release-1 = %s", got)
	}

	// On a server that does not let the repository drop requirements, the
	// same file is refused, naming the key and its line.
	_, err = ParseAtlantis(AtlantisFile, []byte(src), DefaultServer())
	if err == nil || !strings.Contains(err.Error(), `atlantis.yaml:8:23: projects[0].apply_requirements: leaving out "mergeable"`) {
		t.Errorf("want the removal refused at line 8, got %v", err)
	}
	// An atoll.yaml may hold the same content: a repository renames its
	// file and keeps it.
	if _, err := ParseRepo(RepoFile, []byte(src), srv.ForRepo("acme/infra", "main")); err != nil {
		t.Errorf("atoll.yaml with version 3 content: %v", err)
	}
	if _, err := ParseAtlantis(AtlantisFile, []byte("projects: []\n"), DefaultServer()); err == nil || !strings.Contains(err.Error(), "version: required") {
		t.Errorf("atlantis.yaml without a version: %v", err)
	}
}

func equalReqs(got []Requirement, want ...Requirement) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestParseAtlantisVersion2(t *testing.T) {
	r, err := ParseAtlantis(AtlantisFile, []byte("version: 2\nprojects:\n- dir: .\n"), DefaultServer())
	if err != nil {
		t.Fatal(err)
	}
	if !r.AtlantisDialect() || len(r.Warnings) != 1 || r.Warnings[0].Key != "version" || r.Warnings[0].Line != 1 {
		t.Errorf("version 2: dialect %v, warnings %+v", r.AtlantisDialect(), r.Warnings)
	}
}
