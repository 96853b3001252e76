package terraform

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeFiles writes name -> content into a new directory.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRootVariables(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"main.tf": `
variable "untyped" {}
variable "s" { type = string }
variable "n" { type = number }
variable "b" { type = bool }
variable "legacy" { type = "string" }
variable "l" { type = list(string) }
variable "m" { type = map(number) }
variable "o" { type = object({ a = optional(string) }) }
variable "any" { type = any }
variable "changed" { type = string }
`,
		"vars.tf.json":     `{"variable": {"j": {"type": "list(string)"}, "js": {"type": "string"}}}`,
		"main_override.tf": `variable "changed" { type = list(string) }` + "\n" + `variable "n" { default = 3 }`,
		"broken.tf":        `variable "ok" {}` + "\nvariable {",
	})
	got := rootVariables(dir, Terraform)
	want := map[string]bool{
		"untyped": false, "s": false, "n": false, "b": false, "legacy": false,
		"l": true, "m": true, "o": true, "any": true, "changed": true,
		"j": true, "js": false, "ok": false,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rootVariables:\n got  %v\n want %v", got, want)
	}
}

func TestTfvarsNames(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"terraform.tfvars":       `a = 1`,
		"terraform.tfvars.json":  `{"b": 2}`,
		"x.auto.tfvars":          `c = "3"`,
		"y.auto.tfvars.json":     `{"d": [4]}`,
		"other.tfvars":           `e = 5`, // only with -var-file
		"terraform.tfvars.bak":   `f = 6`,
		"broken.auto.tfvars":     `g = `,
		"nested.auto.tfvars.dir": ``,
	})
	got := tfvarsNames(dir)
	want := map[string]bool{"a": true, "b": true, "c": true, "d": true}
	for k := range got {
		if !want[k] && k != "g" {
			t.Errorf("unexpected %q", k)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missing %q", k)
		}
	}
}

// TestEnvVarFile: only declared variables that no tfvars file sets are
// written, typed as terraform reads the environment, in a private file
// that cleanup removes.
func TestEnvVarFile(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"main.tf": `
variable "token" {}
variable "n" { type = number }
variable "l" { type = list(string) }
variable "set_by_tfvars" {}
`,
		"terraform.tfvars": `set_by_tfvars = "x"`,
	})
	w := fakeWorkdir(t, "exit 0\n", Config{Dir: dir, Env: map[string]string{
		"TF_VAR_token":         `hunter22 "quoted" ${not.a.template}`,
		"TF_VAR_n":             "3",
		"TF_VAR_l":             `["a", "b"]`,
		"TF_VAR_set_by_tfvars": "ignored",
		"TF_VAR_undeclared":    "ignored",
	}})
	path, cleanup, err := w.envVarFile()
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(path, dir) || filepath.Base(path) != envVarFileName {
		t.Errorf("path %s", path)
	}
	for p, mode := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode(), err, mode)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"token": `hunter22 "quoted" ${not.a.template}`, "n": "3", "l": []any{"a", "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("var file %s, want %v", b, want)
	}
	cleanup()
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("not removed: %v", err)
	}
}

func TestEnvVarFileNone(t *testing.T) {
	w := fakeWorkdir(t, "exit 0\n", Config{Env: map[string]string{"TF_VAR_undeclared": "x"}})
	path, cleanup, err := w.envVarFile()
	defer cleanup()
	if path != "" || err != nil {
		t.Errorf("envVarFile = %q, %v", path, err)
	}
}

func TestEnvVarFileBadHCL(t *testing.T) {
	dir := writeProject(t, map[string]string{"main.tf": `variable "l" { type = list(string) }`})
	for _, v := range []string{`["a"`, `[var.secret]`, ``} {
		w := fakeWorkdir(t, "touch ran\n", Config{Dir: dir, Env: map[string]string{"TF_VAR_l": v}, Secrets: []string{"secret"}})
		outcome, err := w.Plan(context.Background(), PlanOptions{})
		if outcome != PlanFailed || err == nil || !strings.Contains(err.Error(), "TF_VAR_l") || (v != "" && strings.Contains(err.Error(), v)) {
			t.Errorf("%q: Plan = %v, %v", v, outcome, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("terraform ran")
	}
}

// TestPlanPassesEnvVarFileFirst: the var file comes before the project's
// and is gone after the plan.
func TestPlanPassesEnvVarFileFirst(t *testing.T) {
	dir := writeProject(t, map[string]string{"main.tf": `variable "token" {}`, "a.tfvars": ``})
	w, rec := newRecorder(t, `for a in "$@"; do case "$a" in -var-file=/*) cp "${a#-var-file=}" seen.json ;; esac; done
`, Config{Dir: dir, Env: map[string]string{"TF_VAR_token": "hunter22"}})
	if _, err := w.Plan(context.Background(), PlanOptions{VarFiles: []string{"a.tfvars"}}); err != nil {
		t.Fatal(err)
	}
	args := rec.calls(t)[0]
	var files []string
	for _, a := range args {
		if f, ok := strings.CutPrefix(a, "-var-file="); ok {
			files = append(files, f)
		}
	}
	if len(files) != 2 || filepath.Base(files[0]) != envVarFileName || files[1] != "a.tfvars" {
		t.Fatalf("var files %q", files)
	}
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Errorf("var file left behind: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "seen.json")); err != nil || string(b) != `{"token":"hunter22"}` {
		t.Errorf("terraform saw %s (%v)", b, err)
	}
	if strings.Contains(strings.Join(args, " "), "hunter22") {
		t.Error("a TF_VAR_ value reached the command line")
	}
}

// TestE2EEnvVars: with the real binaries, TF_VAR_ values keep their
// meaning: typed as from the environment, below terraform.tfvars, and
// undeclared ones ignored without a warning.
func TestE2EEnvVars(t *testing.T) {
	for _, dist := range distributions {
		t.Run(string(dist), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w, out := realWorkdir(t, dist, fixture(t, "vars"), Config{Env: map[string]string{
				"TF_VAR_plain":       `a "b" ${c}`,
				"TF_VAR_count_of":    "3",
				"TF_VAR_names":       `["x", "y"]`,
				"TF_VAR_from_tfvars": "env loses",
				"TF_VAR_undeclared":  "ignored",
			}})
			if err := w.Init(ctx, InitOptions{}); err != nil {
				t.Fatal(err)
			}
			if outcome, err := w.Plan(ctx, PlanOptions{Out: "p.tfplan"}); err != nil || outcome != Changes {
				t.Fatalf("Plan = %v, %v", outcome, err)
			}
			if strings.Contains(out.String(), "undeclared") || strings.Contains(out.String(), "Warning") {
				t.Errorf("warnings:\n%s", out)
			}
			_, raw, err := w.Show(ctx, "p.tfplan")
			if err != nil {
				t.Fatal(err)
			}
			var plan struct {
				Variables map[string]struct {
					Value any `json:"value"`
				} `json:"variables"`
			}
			if err := json.Unmarshal(raw, &plan); err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for k, v := range plan.Variables {
				got[k] = v.Value
			}
			want := map[string]any{"plain": `a "b" ${c}`, "count_of": "3", "names": []any{"x", "y"}, "from_tfvars": "tfvars wins over the environment"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("variables:\n got  %v\n want %v", got, want)
			}
		})
	}
}
