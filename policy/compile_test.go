package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		file  string // file of the first problem, relative to the set's directory
		line  int
		want  string // substring of the error
	}{
		{
			name: "syntax error",
			files: map[string]string{
				"ok.rego": "package atoll\n\ndeny contains \"x\" if false\n",
				"deny.rego": `package atoll

# a comment

warn contains "fine"

deny contains msg if {
	msg := "unterminated
}
`,
			},
			file: "deny.rego", line: 8, want: "rego_parse_error",
		},
		{
			name:  "rego v0 syntax is rejected",
			files: map[string]string{"v0.rego": "package atoll\n\ndeny[msg] {\n\tmsg := \"x\"\n}\n"},
			file:  "v0.rego", line: 3, want: "rego_parse_error",
		},
		{
			name:  "unsafe variable",
			files: map[string]string{"sub/unsafe.rego": "package atoll\n\ndeny contains msg if {\n\tcount(input.x) > 1\n}\n"},
			file:  "sub/unsafe.rego", line: 3, want: "rego_unsafe_var_error: var msg is unsafe",
		},
		{
			name:  "http.send is not allowed",
			files: map[string]string{"net.rego": "package atoll\n\ndeny contains \"x\" if {\n\thttp.send({\"method\": \"GET\", \"url\": \"http://example.com\"})\n}\n"},
			file:  "net.rego", line: 4, want: "unsafe built-in function calls in expression: http.send",
		},
		{
			name:  "opa.runtime is not allowed",
			files: map[string]string{"env.rego": "package atoll\n\nwarn contains sprintf(\"%v\", [opa.runtime().env])\n"},
			file:  "env.rego", line: 3, want: "opa.runtime",
		},
		{
			name:  "empty module",
			files: map[string]string{"a.rego": "package atoll\ndeny contains \"x\" if false\n", "empty.rego": "# nothing here\n"},
			file:  "empty.rego", line: 0, want: "empty module",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writePolicies(t, tt.files)
			_, err := Compile(context.Background(), []SetConfig{{Name: "security", Path: dir}}, Options{})
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want a *CompileError", err, err)
			}
			p := ce.Problems[0]
			wantFile := filepath.Join(dir, tt.file)
			if p.File != wantFile || p.Line != tt.line {
				t.Errorf("problem at %s:%d, want %s:%d (%v)", p.File, p.Line, wantFile, tt.line, err)
			}
			prefix := `policy set "security": ` + wantFile + ":"
			if tt.line == 0 {
				prefix = `policy set "security": ` + wantFile + ": "
			}
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line starting %q containing %q", msg, prefix, tt.want)
			}
		})
	}
}

func TestCompileConfigErrors(t *testing.T) {
	dir := writePolicies(t, map[string]string{"p.rego": "package atoll\ndeny contains \"x\" if false\n"})
	notDir := filepath.Join(dir, "p.rego")
	tests := []struct {
		name string
		sets []SetConfig
		opts Options
		want []string
	}{
		{"unknown enforcement", []SetConfig{{Name: "a", Path: dir, Enforcement: "blocking"}}, Options{},
			[]string{`policy set "a": unknown enforcement "blocking" (want "mandatory" or "advisory")`}},
		{"empty name", []SetConfig{{Path: dir}, {Name: " ", Path: dir}}, Options{},
			[]string{"policy set 1: name is empty", "policy set 2: name is empty"}},
		{"duplicate names", []SetConfig{{Name: "a", Path: dir}, {Name: "b", Path: dir}, {Name: "a", Path: dir}}, Options{},
			[]string{`policy set "a": duplicate name (sets 1 and 3)`}},
		{"missing path", []SetConfig{{Name: "a"}}, Options{},
			[]string{`policy set "a": path is empty`}},
		{"path does not exist", []SetConfig{{Name: "a", Path: filepath.Join(dir, "nope")}}, Options{},
			[]string{`policy set "a": path: stat `, "no such file or directory"}},
		{"path is a file", []SetConfig{{Name: "a", Path: notDir}}, Options{},
			[]string{`policy set "a": path ` + notDir + " is not a directory"}},
		{"no rego files", []SetConfig{{Name: "a", Path: t.TempDir()}}, Options{},
			[]string{`policy set "a": no .rego files under`}},
		{"wrong package", []SetConfig{{Name: "a", Path: writePolicies(t, map[string]string{"p.rego": "package terraform\ndeny contains \"x\"\n"})}}, Options{},
			[]string{`policy set "a": no rule defines data.atoll.deny or data.atoll.warn`}},
		{"bad glob and owner", []SetConfig{{Name: "a", Path: dir, Repos: []string{"acme/["}, Owners: []string{"not a team"}, Approvals: -1}}, Options{},
			[]string{`repos pattern "acme/[": syntax error in pattern`, `owner "not a team"`, "approvals is -1"}},
		{"negative timeout", []SetConfig{{Name: "a", Path: dir}}, Options{Timeout: -time.Second},
			[]string{"timeout -1s is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(context.Background(), tt.sets, tt.opts)
			if err == nil {
				t.Fatal("Compile succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCompileLoadsSubdirectoriesAndSkipsHidden(t *testing.T) {
	dir := writePolicies(t, map[string]string{
		"main.rego":          "package atoll\nimport data.lib\ndeny contains lib.reason if false\nwarn contains lib.reason\n",
		"lib/lib.rego":       "package lib\nreason := \"from lib\"\n",
		".git/broken.rego":   "this is not rego",
		"README.md":          "# not loaded",
		"main_test.rego":     "package atoll_test\ntest_x if true\n",
		"data/ignored.json":  "{not json",
		".hidden/also.rego":  "package atoll\nwarn contains \"hidden\"\n",
		"lib/nested/n.rego":  "package lib.nested\nx := 1\n",
		"lib/nested/n2.rego": "package lib.nested\ny := 2\n",
	})
	e, err := Compile(context.Background(), []SetConfig{{Name: "s", Path: dir}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := e.Evaluate(context.Background(), "a/b", "p", planInput(t, "create.json"))[0]
	if len(r.Warn) != 1 || r.Warn[0].Msg != "from lib" || r.Err != "" {
		t.Fatalf("result = %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git", "broken.rego")); err != nil {
		t.Fatal(err)
	}
}

func TestCompileReportsEveryBrokenSet(t *testing.T) {
	good := writePolicies(t, map[string]string{"p.rego": "package atoll\nwarn contains \"x\"\n"})
	bad1 := writePolicies(t, map[string]string{"p.rego": "package atoll\nwarn contains\n"})
	bad2 := writePolicies(t, map[string]string{"q.rego": "package atoll\n\nwarn contains y\n"})
	_, err := Compile(context.Background(), []SetConfig{
		{Name: "bad1", Path: bad1}, {Name: "good", Path: good}, {Name: "bad2", Path: bad2},
	}, Options{})
	var ce *CompileError
	if !errors.As(err, &ce) || ce.Set != "bad1" {
		t.Fatalf("err = %v, want a *CompileError for bad1 first", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], `policy set "bad1": `+filepath.Join(bad1, "p.rego")+":") ||
		lines[1] != `policy set "bad2": `+filepath.Join(bad2, "q.rego")+":3: rego_unsafe_var_error: var y is unsafe" {
		t.Fatalf("error =\n%v", err)
	}
}
