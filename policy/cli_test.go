package policy

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const examplePolicies = "testdata/policies/example"

func TestCheck(t *testing.T) {
	plans := filepath.Join("testdata", "plans")
	create := filepath.Join(plans, "create.json")
	replace := filepath.Join(plans, "replace_world_writable.json")
	input := filepath.Join("testdata", "input.json")
	tmp := t.TempDir()
	notJSON := filepath.Join(tmp, "plan.tfplan")
	if err := os.WriteFile(notJSON, []byte("PK\x03\x04 binary plan"), 0o644); err != nil {
		t.Fatal(err)
	}
	syntax := writePolicies(t, map[string]string{"bad.rego": "package atoll\n\ndeny contains \"x\" if {\n"})

	tests := []struct {
		name     string
		dir      string
		inputDoc bool
		files    []string
		code     int
		want     []string // lines or fragments expected in the output
		not      []string
	}{
		{name: "passing plan", dir: examplePolicies, files: []string{create}, code: 0,
			want: []string{"1 file checked: 0 denied (0 denials, 0 warnings), 0 errors"}, not: []string{"DENY", "WARN"}},
		{name: "denied plan", dir: examplePolicies, files: []string{create, replace}, code: 1,
			want: []string{
				replace + ": DENY: local_file.config: ./out/config.txt would be world-writable (mode 0777)\n",
				replace + ": WARN: terraform_data.build: will be destroyed\n",
				"2 files checked: 1 denied (1 denial, 1 warning), 0 errors",
			},
			not: []string{create + ":"}},
		{name: "input document", dir: examplePolicies, inputDoc: true, files: []string{input}, code: 1,
			want: []string{input + ": DENY: local_file.config: ./out/config.txt would be world-writable (mode 0777)"}},
		{name: "unreadable JSON", dir: examplePolicies, files: []string{create, notJSON}, code: 2,
			want: []string{notJSON + ": ERROR: not JSON: ", "not the plan file itself", "1 error"}},
		{name: "missing file", dir: examplePolicies, files: []string{filepath.Join(tmp, "missing.json")}, code: 2,
			want: []string{"missing.json: ERROR: reading: open ", "no such file or directory"}},
		{name: "input document given as plan", dir: examplePolicies, files: []string{input}, code: 2,
			want: []string{`ERROR: no "format_version": not a ` + "`terraform show -json`"}},
		{name: "plan given as input document", dir: examplePolicies, inputDoc: true, files: []string{create}, code: 2,
			want: []string{`ERROR: input document has no "plan" key`}},
		{name: "syntax error", dir: syntax, files: []string{create}, code: 2,
			want: []string{"error: policy set \"" + filepath.Base(syntax) + "\": " + filepath.Join(syntax, "bad.rego") + ":4: rego_parse_error: unexpected eof token"}},
		{name: "no files", dir: examplePolicies, code: 2, want: []string{"error: no files to check"}},
		{name: "missing directory", dir: filepath.Join(tmp, "nope"), files: []string{create}, code: 2,
			want: []string{"error: policy set \"nope\": path: stat "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := Check(context.Background(), tt.dir, CheckOptions{InputDoc: tt.inputDoc}, tt.files, &out)
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("output has %q", n)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out.String())
			}
		})
	}
}

func TestTest(t *testing.T) {
	failing := writePolicies(t, map[string]string{
		"p.rego": "package atoll\n\ndeny contains \"no\" if input.bad\n",
		"p_test.rego": `package atoll_test

import data.atoll

test_passes if {
	count(atoll.deny) == 0 with input as {}
}

test_fails if {
	print("deny was", atoll.deny)
	count(atoll.deny) == 1 with input as {}
}

test_errors if {
	to_number("x") == 1
}

todo_test_later if false
`,
	})
	tests := []struct {
		name  string
		dir   string
		code  int
		want  []string
		lines int // expected number of output lines; 0 to skip the check
	}{
		{name: "all pass", dir: examplePolicies, code: 0, lines: 5, want: []string{
			"PASS data.atoll_test.test_private_file_allowed (",
			"PASS data.atoll_test.test_destroy_in_production_needs_label (",
			"4 tests: 4 passed, 0 failed, 0 errors, 0 skipped\n",
		}},
		{name: "a failure", dir: failing, code: 1, want: []string{
			"PASS data.atoll_test.test_passes (",
			"FAIL data.atoll_test.test_fails (" + filepath.Join(failing, "p_test.rego") + ":9)\n    deny was set()\n",
			"ERROR data.atoll_test.test_errors (" + filepath.Join(failing, "p_test.rego") + ":14): ",
			"to_number",
			"SKIP data.atoll_test.todo_test_later\n",
			"4 tests: 1 passed, 1 failed, 1 error, 1 skipped\n",
		}},
		{name: "syntax error", dir: writePolicies(t, map[string]string{"x_test.rego": "package x\n\ntest_a if {\n\t1 ==\n}\n"}), code: 2,
			want: []string{"x_test.rego:5: rego_parse_error"}},
		{name: "compile error", dir: writePolicies(t, map[string]string{"x_test.rego": "package x\n\ntest_a if {\n\thttp.send({})\n}\n"}), code: 2,
			want: []string{"x_test.rego:4: rego_type_error: unsafe built-in function calls in expression: http.send"}},
		{name: "no tests", dir: writePolicies(t, map[string]string{"p.rego": "package atoll\nwarn contains \"x\"\n"}), code: 2,
			want: []string{"error: no tests found under "}},
		{name: "no rego files", dir: t.TempDir(), code: 2, want: []string{"no .rego files under"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := Test(context.Background(), tt.dir, &out)
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if n := strings.Count(out.String(), "\n"); tt.lines > 0 && n != tt.lines {
				t.Errorf("%d lines, want %d", n, tt.lines)
			}
			if t.Failed() {
				t.Logf("output:\n%s", out.String())
			}
		})
	}
}
