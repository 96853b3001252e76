package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// badCase is one file of the configuration bad-input corpus and the
// errors it must give.
type badCase struct {
	file string
	doc  string   // instead of a file under testdata/badinput (huge inputs)
	want []string // each in the error text
}

func (c badCase) read(t *testing.T, dir string) []byte {
	t.Helper()
	if c.doc != "" {
		return []byte(c.doc)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "badinput", dir, c.file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bounded runs fn and fails when it takes over 30 s or allocates
// over 64 MiB: a YAML bomb must be refused cheaply.
func bounded(t *testing.T, fn func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
	if took > 30*time.Second { // generous: -race on a shared machine is slow
		t.Errorf("took %s", took)
	}
}

func checkBadErr(t *testing.T, err error, want []string) {
	t.Helper()
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Errors) == 0 {
		t.Fatalf("error %v, want a *ValidationError", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q:\n%.2000s", w, err)
		}
	}
	if n := len(verr.Errors); n > 50 {
		t.Errorf("%d errors: one problem should not flood the reader", n)
	}
}

// TestBadRepoConfigs parses the atoll.yaml bad-input corpus
// (testdata/badinput/repo): each file is refused with errors naming the
// problem, cheaply, and a good file still parses afterwards.
func TestBadRepoConfigs(t *testing.T) {
	tests := []badCase{
		{file: "billion_laughs.yaml", want: []string{`atoll.yaml:1:1: unknown key "a"`, "ignore[0]: expected a string, got a list"}},
		{file: "alias_expansion.yaml", want: []string{"the document is too large (more than 100000 values, aliases expanded)"}},
		{file: "self_alias.yaml", want: []string{"ignore[0]: expected a string, got a list"}},
		{file: "unknown_anchor.yaml", want: []string{"invalid YAML: unknown anchor 'nope' referenced"}},
		{file: "deep_flow_nesting.yaml", want: []string{"invalid YAML: exceeded max depth of 10000"}},
		{file: "deep_map_nesting.yaml", want: []string{"invalid YAML: exceeded max depth of 10000"}},
		{file: "deep_merge_keys.yaml", want: []string{"merge keys nested too deeply"}},
		{file: "huge_file", doc: "version: 1\nignore:\n" + strings.Repeat("  - 'docs/**'\n", 100000), want: []string{"atoll.yaml: the file is 1400019 bytes, over the limit of 1048576 (1 MiB)"}},
		{file: "huge_scalar", doc: "ignore: ['" + strings.Repeat("x", 20<<20) + "']\n", want: []string{"over the limit of 1048576 (1 MiB)"}},
		{file: "unknown_keys.yaml", want: []string{`atoll.yaml:2:1: unknown key "projcts" (did you mean "projects"?)`, `atoll.yaml:5:5: projects[0]: unknown key "when_modifed"`, `unknown key "workspce" (did you mean "workspace"?)`}},
		{file: "duplicate_key.yaml", want: []string{`atoll.yaml:3:1: apply_mode: duplicate key "apply_mode"`}},
		{file: "two_documents.yaml", want: []string{"only one YAML document is allowed"}},
		{file: "tab_indent.yaml", want: []string{"atoll.yaml:3: invalid YAML: found character that cannot start any token"}},
		{file: "syntax_error.yaml", want: []string{"invalid YAML: did not find expected ',' or ']'"}},
		{file: "non_string_key.yaml", want: []string{"keys must be plain strings, got a list"}},
		{file: "sequence_root.yaml", want: []string{"expected a mapping, got a list"}},
		{file: "scalar_root.yaml", want: []string{`expected a mapping, got "just words"`}},
		{file: "version_2.yaml", want: []string{"atoll.yaml:1:10: version: unsupported version 2"}},
		{file: "escaping_dir.yaml", want: []string{"projects[0].dir:", "outside the repository"}},
		{file: "absolute_dir.yaml", want: []string{"projects[0].dir:", "relative"}},
		{file: "duplicate_projects.yaml", want: []string{"projects[1].name:", `"x"`}},
		{file: "unknown_apply_mode.yaml", want: []string{`apply_mode: unknown apply mode "whenever"`}},
		{file: "relax_unallowed.yaml", want: []string{`removing "undiverged" would loosen what the server config fixes`}},
		{file: "bad_glob.yaml", want: []string{"ignore[0]:"}},
		{file: "bad_schedule.yaml", want: []string{"drift.schedule:", "61"}},
		{file: "null_byte.yaml", want: []string{`projects[0].dir: dir "a\x00b" holds a control character`}},
		{file: "bom.yaml", want: []string{"projects: expected a list, got a mapping"}},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "badinput", "repo", "*.yaml"))
	if len(files) != len(tests)-2 {
		t.Errorf("%d files in testdata/badinput/repo, %d file cases: every file needs a case", len(files), len(tests)-2)
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".yaml"), func(t *testing.T) {
			doc := tt.read(t, "repo")
			var err error
			bounded(t, func() { _, err = ParseRepo("atoll.yaml", doc, relaxingServer()) })
			checkBadErr(t, err, tt.want)
		})
	}
	if _, err := ParseRepo("atoll.yaml", []byte("version: 1\nprojects:\n  - dir: a\n"), DefaultServer()); err != nil {
		t.Fatalf("a good atoll.yaml after the bad ones: %v", err)
	}
}

// TestBadServerConfigs loads the server configuration bad-input corpus
// (testdata/badinput/server) likewise; secrets in a refused file never
// appear in the errors.
func TestBadServerConfigs(t *testing.T) {
	tests := []badCase{
		{file: "billion_laughs.yaml", want: []string{`unknown key "a"`, "repos[0]: expected a string, got a list"}},
		{file: "alias_expansion.yaml", want: []string{"the document is too large (more than 100000 values, aliases expanded)"}},
		{file: "deep_nesting.yaml", want: []string{"invalid YAML: exceeded max depth of 10000"}},
		{file: "huge_file", doc: "repos:\n" + strings.Repeat("  - 'acme/*'\n", 110000), want: []string{"over the limit of 1048576 (1 MiB)"}},
		{file: "unknown_keys.yaml", want: []string{`unknown key "lissen" (did you mean "listen"?)`, `unknown key "app_idd" (did you mean "app_id"?)`, `unknown key "versoin" (did you mean "version"?)`}},
		{file: "duplicate_key.yaml", want: []string{`workers: duplicate key "workers"`}},
		{file: "syntax_error.yaml", want: []string{"invalid YAML:"}},
		{file: "invalid_values.yaml", want: []string{"workers: must be between 1 and 256, got 0", `log_level:`, `apply_mode: unknown apply mode "never"`, "github.app_id: required", "github.api_url:"}},
		{file: "int_overflow.yaml", want: []string{`workers: expected an integer, got "99999999999999999999"`}},
		{file: "secret_twice.yaml", want: []string{"set either github.webhook_secret or github.webhook_secret_file, not both"}},
		{file: "not_pem.yaml", want: []string{"github.private_key: not a PEM-encoded private key"}},
		{file: "merge_into_scalar.yaml", want: []string{"a merge key (<<) needs a mapping or a list of mappings"}},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "badinput", "server", "*.yaml"))
	if len(files) != len(tests)-1 {
		t.Errorf("%d files in testdata/badinput/server, %d file cases: every file needs a case", len(files), len(tests)-1)
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".yaml"), func(t *testing.T) {
			path := filepath.Join(dir, "server.yaml")
			if err := os.WriteFile(path, tt.read(t, "server"), 0o600); err != nil {
				t.Fatal(err)
			}
			var err error
			bounded(t, func() { _, err = LoadServer(path, nil, nil) })
			checkBadErr(t, err, tt.want)
			for _, secret := range []string{"hunter2-secret", "hunter2-key"} {
				if strings.Contains(fmt.Sprint(err), secret) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
		})
	}
	if _, err := LoadServer(writeFile(t, "server.yaml", minimal(t)), nil, nil); err != nil {
		t.Fatalf("a good server config after the bad ones: %v", err)
	}
}

// wrongValues gives, per key type, a value of another type and the message
// it must get.
var wrongValues = map[string]struct {
	value any
	want  string
}{
	"string":   {map[string]any{"x": 1}, "expected a string, got a mapping"},
	"int":      {"many", `expected an integer, got "many"`},
	"bool":     {"perhaps", `expected true or false, got "perhaps"`},
	"duration": {[]any{1}, "expected a duration such as 90s, 5m or 1h30m, got a list"},
	"list":     {map[string]any{"a": 1}, "expected a list, got a mapping"},
	"map":      {[]any{1}, "expected a mapping, got a list"},
	"objects":  {"x", `expected a list, got "x"`},
	"object":   {"x", `expected a mapping, got "x"`},
}

// wrongTypeDoc builds a YAML document setting the key at path (dotted,
// "[]" after a list of objects) to value, and returns the key the error
// must name ("policy_sets[0].owners").
func wrongTypeDoc(t *testing.T, path string, value any) ([]byte, string) {
	t.Helper()
	segs := strings.Split(path, ".")
	var build func(i int) any
	build = func(i int) any {
		if i == len(segs) {
			return value
		}
		name, list := strings.CutSuffix(segs[i], "[]")
		v := build(i + 1)
		if list {
			v = []any{v}
		}
		return map[string]any{name: v}
	}
	b, err := yaml.Marshal(build(0))
	if err != nil {
		t.Fatal(err)
	}
	return b, strings.ReplaceAll(path, "[]", "[0]")
}

func checkWrongType(t *testing.T, err error, key, want string) {
	t.Helper()
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %v, want a *ValidationError", err)
	}
	for _, fe := range verr.Errors {
		if fe.Key == key && strings.Contains(fe.Message, want) && fe.Line > 0 {
			return
		}
	}
	t.Errorf("no error on %s saying %q:\n%v", key, want, err)
}

// TestEveryServerKeyWrongType sets every server configuration key, one at
// a time, to a value of the wrong type: each is refused with an error on
// that key, at its line.
func TestEveryServerKeyWrongType(t *testing.T) {
	dir := t.TempDir()
	n := 0
	for _, k := range Keys() {
		wrong, ok := wrongValues[k.Type]
		if !ok {
			t.Errorf("%s: no wrong value for type %s", k.Path, k.Type)
			continue
		}
		n++
		t.Run(k.Path, func(t *testing.T) {
			doc, key := wrongTypeDoc(t, k.Path, wrong.value)
			path := filepath.Join(dir, "server.yaml")
			if err := os.WriteFile(path, doc, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadServer(path, nil, nil)
			checkWrongType(t, err, key, wrong.want)
		})
	}
	if n < 60 {
		t.Errorf("only %d server keys", n)
	}
}

// TestEveryRepoKeyWrongType does the same for every atoll.yaml key.
func TestEveryRepoKeyWrongType(t *testing.T) {
	n := 0
	for _, k := range repoKeys() {
		wrong, ok := wrongValues[k.Type]
		if !ok {
			t.Errorf("%s: no wrong value for type %s", k.Path, k.Type)
			continue
		}
		n++
		t.Run(k.Path, func(t *testing.T) {
			doc, key := wrongTypeDoc(t, k.Path, wrong.value)
			_, err := ParseRepo("atoll.yaml", doc, relaxingServer())
			checkWrongType(t, err, key, wrong.want)
		})
	}
	if n < 25 {
		t.Errorf("only %d atoll.yaml keys", n)
	}
}
