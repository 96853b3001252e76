package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/templates"
)

// TestEveryConfigErrorKindRenders: a broken atoll.yaml of each of the
// configuration parser's error kinds gets a pull request reply rendered
// from that kind's own template, which says what the parser's error says
// (for the command line), at the same place.
func TestEveryConfigErrorKindRenders(t *testing.T) {
	tmpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	steps := "version: 1\nworkflows:\n  w:\n    plan:\n      steps: %s\n"
	docs := map[config.Kind]string{
		config.KindFileTooLarge:          "ignore:\n" + strings.Repeat("  - 'a/*'\n", 110000),
		config.KindInvalidYAML:           "version: 1\nprojects: [\n",
		config.KindMultipleDocuments:     "version: 1\n---\nversion: 1\n",
		config.KindTooManyValues:         corpus(t, "alias_expansion.yaml"),
		config.KindWrongType:             "version: [1]\n",
		config.KindUnknownKey:            "version: 1\nprojects:\n  - dir: .\n    autoplan:\n      when_modifed: ['*.tf']\n",
		config.KindDuplicateKey:          "version: 1\nversion: 1\n",
		config.KindKeyNotString:          "version: 1\n[1]: x\n",
		config.KindMergeTooDeep:          "a: &a {<<: {<<: {<<: {<<: {<<: {<<: {<<: {<<: {<<: {<<: {<<: {<<: {dir: x}}}}}}}}}}}}}\nprojects: [*a]\n",
		config.KindMergeNotMapping:       "version: 1\nprojects:\n  - <<: x\n    dir: .\n",
		config.KindStepNeedsValue:        strings.Replace(steps, "%s", "[run]", 1),
		config.KindUnknownStep:           strings.Replace(steps, "%s", "[plann]", 1),
		config.KindStepKeys:              strings.Replace(steps, "%s", "[{init: {}, plan: {}}]", 1),
		config.KindUnknownValue:          "version: 1\nautodiscover:\n  mode: always\n",
		config.KindInvalidGlob:           "version: 1\nignore: ['', 'a/[x']\n",
		config.KindInvalidConstraint:     "version: 1\nprojects:\n  - dir: .\n    terraform_version: '~~ 1'\n",
		config.KindUnknownWorkflow:       "version: 1\nprojects:\n  - {dir: ., workflow: nope}\n",
		config.KindPolicyCheckNotAllowed: "version: 1\npolicy_check: false\n",
		config.KindInvalidTeam:           "version: 1\nrequired_reviewers:\n  - {teams: [x]}\n",
		config.KindTeamsRequired:         "version: 1\nrequired_reviewers:\n  - {count: 1}\n",
		config.KindCountTooSmall:         "version: 1\nrequired_reviewers:\n  - {teams: [a/b], count: 0}\n",
		config.KindUnknownApplyMode:      "version: 1\napply_mode: never\n",
		config.KindAutomergeNotEnabled:   "version: 1\nautomerge: true\n",
		config.KindDriftNotAllowed:       "version: 1\ndrift:\n  enabled: false\n",
		config.KindWorkflowsNotAllowed:   "version: 1\nworkflows:\n  w: {}\n",
		config.KindInvalidWorkspace:      "version: 1\nprojects:\n  - dir: .\n    workspace: 'a b'\n",
		config.KindInvalidProjectName:    "version: 1\nprojects:\n  - dir: .\n    name: '-x'\n",
		config.KindDuplicateProjectName:  "version: 1\nprojects:\n  - {dir: a, name: app}\n  - {dir: b, name: app}\n",
		config.KindDuplicateDirWorkspace: "version: 1\nprojects:\n  - {dir: a, name: x}\n  - {dir: a, name: y}\n",
		config.KindDistributionsDisagree: "version: 1\nprojects:\n  - {dir: a, distribution: opentofu, terraform_distribution: terraform}\n",
		config.KindInvalidVarFile:        "version: 1\nprojects:\n  - {dir: a, var_files: [/etc/x.tfvars]}\n",
		config.KindVarFileOutside:        "version: 1\nprojects:\n  - {dir: a, var_files: [../../x.tfvars]}\n",
		config.KindBranchNeedsSlashes:    "version: 1\nprojects:\n  - {dir: a, branch: main}\n",
		config.KindInvalidRegexp:         "version: 1\nprojects:\n  - {dir: a, branch: /(/}\n",
		config.KindUnknownLockMode:       "version: 1\nprojects:\n  - {dir: a, repo_locks: {mode: always}}\n",
		config.KindDirRequired:           "version: 1\nprojects:\n  - {name: a}\n",
		config.KindDirNotRelative:        "version: 1\nprojects:\n  - {dir: /srv}\n",
		config.KindDirOutside:            "version: 1\nprojects:\n  - {dir: ../x}\n",
		config.KindDirControlChar:        "version: 1\nprojects:\n  - {dir: \"a\\tb\"}\n",
		config.KindUnknownRequirement:    "version: 1\napply_requirements: [aproved]\n",
		config.KindPoliciesPassedKept:    "version: 1\napply_requirements: ['!policies_passed']\n",
		config.KindRemovalNotAllowed:     "version: 1\napply_requirements: ['!approved']\n",
		config.KindAddsAndRemoves:        "version: 1\napply_requirements: [approved, '!approved']\n",
	}
	atlantis := map[config.Kind]string{
		config.KindUnknownAtlantisRequirement: "version: 3\nprojects:\n  - {dir: ., apply_requirements: [aproved]}\n",
		config.KindRequirementLeftOut:         "version: 3\napply_requirements: [approved]\nprojects:\n  - {dir: .}\n",
		config.KindRegexpSelectionIgnored:     "version: 3\nallowed_regexp_prefixes: [a]\nprojects:\n  - {dir: /srv}\n",
		config.KindUnknownPlanRequirement:     "version: 3\nprojects:\n  - {dir: ., plan_requirements: [x]}\n",
		config.KindImportRequirementsIgnored:  "version: 3\nprojects:\n  - {dir: /srv, import_requirements: [approved]}\n",
		config.KindDestroyOrderIgnored:        "version: 3\nprojects:\n  - {dir: /srv, destroy_execution_order_group: 1}\n",
		config.KindUnknownSilence:             "version: 3\nprojects:\n  - {dir: ., silence_pr_comments: [x]}\n",
		config.KindCustomPolicyCheckIgnored:   "version: 3\nprojects:\n  - {dir: /srv, custom_policy_check: true}\n",
		config.KindVersionRequired:            "projects: []\n",
		config.KindUnsupportedAtlantisVersion: "version: 4\nprojects: []\n",
		config.KindUnsupportedVersion:         "version: 4\nprojects: []\n",
		config.KindAutomergeIgnored:           "version: 3\nautomerge: true\nprojects:\n  - {dir: /srv}\n",
		config.KindUnknownDependency:          "version: 3\nprojects:\n  - {dir: /srv, depends_on: [db]}\n",
	}
	for kind, doc := range atlantis {
		parse, file := config.ParseAtlantis, config.AtlantisFile
		if kind == config.KindUnsupportedVersion {
			parse, file = config.ParseRepo, config.RepoFile
		}
		_, err := parse(file, []byte(doc), config.DefaultServer())
		checkConfigKindRenders(t, tmpl, kind, err)
	}
	workflows := config.DefaultServer()
	workflows.Workflows = map[string]config.Workflow{"x": config.DefaultWorkflow()}
	_, err = config.ParseRepo(config.RepoFile, []byte("version: 1\nprojects:\n  - {dir: ., workflow: x}\n"), workflows)
	checkConfigKindRenders(t, tmpl, config.KindWorkflowChoiceNotAllowed, err)
	yes := true
	custom := config.DefaultServer()
	custom.Workflows = map[string]config.Workflow{"a": config.DefaultWorkflow(), "b": config.DefaultWorkflow()}
	custom.RepoRules = []config.RepoRule{{ID: "/.*/", AllowedOverrides: []string{config.OverrideWorkflow},
		AllowedWorkflows: []string{"a"}, AllowCustomWorkflows: &yes}}
	own := map[config.Kind]string{
		config.KindInvalidWorkflowName:   "'a b'",
		config.KindCommandEmpty:          "w:\n    plan:\n      steps: [{run: ' '}]",
		config.KindUnknownMultienvOutput: "w:\n    plan:\n      steps: [{multienv: {command: x, output: strip_refreshing}}]",
		config.KindUnknownOutput:         "w:\n    plan:\n      steps: [{run: {command: x, output: loud}}]",
		config.KindEnvNameRequired:       "w:\n    plan:\n      steps: [{env: {value: x}}]",
		config.KindInvalidEnvName:        "w:\n    plan:\n      steps: [{env: {name: '1X', value: y}}]",
		config.KindValueOrCommand:        "w:\n    plan:\n      steps: [{env: {name: X}}]",
	}
	for kind, w := range own {
		if kind == config.KindInvalidWorkflowName {
			w += ":\n    plan:\n      steps: [init]"
		}
		_, err := config.ParseRepo(config.RepoFile, []byte("version: 1\nworkflows:\n  "+w+"\n"), custom)
		checkConfigKindRenders(t, tmpl, kind, err)
	}
	_, err = config.ParseRepo(config.RepoFile, []byte("version: 1\nprojects:\n  - {dir: ., workflow: b}\n"), custom)
	checkConfigKindRenders(t, tmpl, config.KindWorkflowNotAllowed, err)
	drift := config.DefaultServer()
	drift.Drift.RepoOverride = true
	_, err = config.ParseRepo(config.RepoFile, []byte("version: 1\ndrift:\n  schedule: soon\n"), drift)
	checkConfigKindRenders(t, tmpl, config.KindInvalidSchedule, err)

	for kind, doc := range docs {
		_, err := config.ParseRepo(config.RepoFile, []byte(doc), config.DefaultServer())
		checkConfigKindRenders(t, tmpl, kind, err)
	}
	// A duration is a server key: atoll.yaml has none.
	path := filepath.Join(t.TempDir(), "server.yaml")
	if err := os.WriteFile(path, []byte("data_dir: /tmp\nreconcile_interval: 5 minutes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = config.LoadServer(path, nil, nil)
	checkConfigKindRenders(t, tmpl, config.KindInvalidDuration, err)
	// Nothing in atoll.yaml is KindInvalid any more: a server key is.
	if err := os.WriteFile(path, []byte("data_dir: /tmp\nworkers: 300\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = config.LoadServer(path, nil, nil)
	checkConfigKindRenders(t, tmpl, config.KindInvalid, err)

	for _, k := range config.Kinds {
		if _, ok := docs[k]; !ok && atlantis[k] == "" && k != config.KindInvalidSchedule && own[k] == "" && k != config.KindWorkflowNotAllowed && k != config.KindWorkflowChoiceNotAllowed && k != config.KindInvalidDuration && k != config.KindInvalid {
			t.Errorf("kind %s has no broken file here", k)
		}
	}
}

// corpus is a file of runner/config's bad-input corpus of atoll.yaml.
func corpus(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("config", "testdata", "badinput", "repo", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkConfigKindRenders checks that err holds a FieldError of kind and
// that each of its FieldErrors renders, in config_error.tmpl, as the
// English of its Error().
func checkConfigKindRenders(t *testing.T, tmpl *templates.Renderer, kind config.Kind, err error) {
	t.Helper()
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("%s: error %v, want a *config.ValidationError", kind, err)
	}
	found := false
	for _, fe := range ve.Errors {
		found = found || fe.Kind == kind
		out, rerr := tmpl.RenderConfigError(templates.ConfigError{File: config.RepoFile, Errors: []templates.FieldError{projects.FieldError(fe)}})
		if rerr != nil {
			t.Fatal(rerr)
		}
		want := fe.Message
		switch fe.Kind {
		case config.KindFileTooLarge: // the reply leaves out "(1 MiB)"
			want = strings.TrimSuffix(want, " (1 MiB)")
		case config.KindMergeTooDeep: // the reply says how deep
			want = "merge keys (<<) nested more than 10 levels deep"
		}
		if fe.Warning {
			want = "warning: " + want
		}
		if fe.Key != "" {
			want = "`" + fe.Key + "`: " + want
		}
		if !strings.Contains(out, want) {
			t.Errorf("%s: reply %q does not say %q", fe.Kind, out, want)
		}
	}
	if !found {
		t.Errorf("no error of kind %s in %v", kind, err)
	}
}
