package terraform

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/discovery"
)

// TestBadHCL runs the HCL bad-input corpus (testdata/badinput/hcl) through
// the code paths a pull request's files take: project discovery, which
// must not fail or stall on broken files and must still find the project
// and its neighbour, then terraform init, whose error must name the file
// and the problem (atoll passes terraform's diagnostics on, masked). The
// good neighbour still initializes.
func TestBadHCL(t *testing.T) {
	tests := []struct {
		file string
		want []string // in the init error
	}{
		{"unclosed_block.tf", []string{"Unclosed configuration block", "on unclosed_block.tf line 1"}},
		{"stray_brace.tf", []string{"Argument or block definition required", "stray_brace.tf line 2"}},
		{"unterminated_string.tf", []string{"unterminated_string.tf line 2"}},
		{"unterminated_heredoc.tf", []string{"Unterminated template string", "unterminated_heredoc.tf"}},
		{"unclosed_interpolation.tf", []string{"Invalid expression", "unclosed_interpolation.tf line 2"}},
		{"missing_equals.tf", []string{"missing_equals.tf line 2"}},
		{"missing_label.tf", []string{"Missing name for resource", "missing_label.tf line 1"}},
		{"unknown_block.tf", []string{`Unsupported block type`, `"resourc"`}},
		{"variable_in_module_source.tf", []string{"Variables not allowed", "variable_in_module_source.tf line 4"}},
		{"missing_module_dir.tf", []string{"Unreadable module directory", "does-not-exist"}},
		{"nul_bytes.tf", []string{"Invalid character", "nul_bytes.tf line 4"}},
		{"invalid_utf8.tf", []string{"Invalid character encoding", "invalid_utf8.tf line 2"}},
		{"deep_nesting.tf", nil}, // terraform reads it: 3,000 levels are no error
		{"duplicate_resource.tf", []string{`Duplicate resource "terraform_data" configuration`, "duplicate_resource.tf line 2"}},
		{"comment_hides_brace.tf", []string{"Unreadable module directory", "comment_hides_brace.tf:1"}},
		{"json_syntax_error.tf.json", []string{"No closing brace was found for this JSON object", "json_syntax_error.tf.json line 1"}},
	}
	files, _ := os.ReadDir(filepath.Join("testdata", "badinput", "hcl"))
	if len(files) != len(tests) {
		t.Errorf("%d files in testdata/badinput/hcl, %d cases: every file needs a case", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "badinput", "hcl", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			repo := t.TempDir()
			writeTree(t, repo, map[string]string{
				"broken/" + tt.file: string(src),
				"good/main.tf":      "resource \"terraform_data\" \"x\" {}\n",
			})
			checkDiscovery(t, repo, []string{"broken/" + tt.file, "good/main.tf"})
			err = initDir(t, filepath.Join(repo, "broken"))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("init: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("init succeeded; want an error")
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("init error does not say %q:\n%v", w, err)
					}
				}
			}
			if err := initDir(t, filepath.Join(repo, "good")); err != nil {
				t.Fatalf("the good project beside it: %v", err)
			}
		})
	}
}

// TestHugeHCL: discovery reads past a Terraform file too large to scan
// (over 8 MiB) quickly, and still finds both projects.
func TestHugeHCL(t *testing.T) {
	repo := t.TempDir()
	huge := strings.Repeat("# "+strings.Repeat("x", 98)+"\n", 9<<20/100) + "module \"m\" {\n  source = \"../good\"\n}\n"
	writeTree(t, repo, map[string]string{"huge/main.tf": huge, "good/main.tf": "resource \"terraform_data\" \"x\" {}\n",
		"many/main.tf": strings.Repeat("resource \"terraform_data\" \"x\" {\n  input = \"${1 + 2}\"\n}\n", 50000)})
	start := time.Now()
	checkDiscovery(t, repo, []string{"huge/main.tf", "good/main.tf", "many/main.tf"})
	if took := time.Since(start); took > 60*time.Second { // generous: -race on shared cores
		t.Errorf("discovery took %s", took)
	}
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkDiscovery wants every changed file's directory found as a project.
func checkDiscovery(t *testing.T, repo string, changed []string) {
	t.Helper()
	ps, err := discovery.Discover(context.Background(), repo, changed, discovery.Options{})
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	got := map[string]bool{}
	for _, p := range ps {
		got[p.Dir] = true
	}
	for _, f := range changed {
		if d := filepath.ToSlash(filepath.Dir(f)); !got[d] {
			t.Errorf("discovery found %+v, not %s", ps, d)
		}
	}
}

func initDir(t *testing.T, dir string) error {
	t.Helper()
	w, _ := realWorkdir(t, Terraform, dir, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return w.Init(ctx, InitOptions{})
}
