package terraform

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestHasBackend(t *testing.T) {
	const s3 = "terraform {\n  backend \"s3\" {\n    bucket = \"b\"\n  }\n}\n"
	const resource = "resource \"terraform_data\" \"x\" {}\n"
	tests := []struct {
		name  string
		dist  Distribution
		files map[string]string
		skip  []string
		want  bool
	}{
		{name: "none", files: map[string]string{"main.tf": resource}},
		{name: "backend in .tf", files: map[string]string{"main.tf": resource, "backend.tf": s3}, want: true},
		{name: "backend in .tf.json", want: true, files: map[string]string{
			"main.tf":         resource,
			"backend.tf.json": `{"terraform": {"backend": {"s3": {"bucket": "b"}}}}`,
		}},
		{name: "backend in .tf.json, terraform as a list", want: true, files: map[string]string{
			"backend.tf.json": `{"terraform": [{"required_version": ">= 1.0"}, {"backend": {"gcs": {"bucket": "b"}}}]}`,
		}},
		{name: "terraform block without backend in .tf.json", files: map[string]string{
			"versions.tf.json": `{"terraform": {"required_version": ">= 1.0"}}`,
		}},
		{name: "cloud block", want: true, files: map[string]string{
			"main.tf": "terraform {\n  cloud {\n    organization = \"acme\"\n    workspaces { name = \"w\" }\n  }\n}\n",
		}},
		{name: "cloud block in .tf.json", want: true, files: map[string]string{
			"main.tf.json": `{"terraform": {"cloud": {"organization": "acme"}}}`,
		}},
		{name: "backend in a line comment", files: map[string]string{
			"main.tf": "terraform {\n  # backend \"s3\" {\n  // backend \"gcs\" {\n}\n" + resource,
		}},
		{name: "backend in a block comment", files: map[string]string{
			"main.tf": "/*\nterraform {\n  backend \"s3\" {\n  }\n}\n*/\n" + resource,
		}},
		{name: "backend in a heredoc", files: map[string]string{
			"main.tf": "locals {\n  doc = <<EOT\n  backend \"s3\" {\n  cloud {\nEOT\n}\n",
		}},
		{name: "backend outside a terraform block", files: map[string]string{
			"main.tf": "module \"m\" {\n  source = \"./m\"\n}\nlocals {\n  backend = \"s3\"\n}\n",
		}},
		{name: "backend in an override file", want: true, files: map[string]string{
			"main.tf":     resource,
			"override.tf": s3,
		}},
		{name: "backend in a _override.tf.json file", want: true, files: map[string]string{
			"main.tf":                  resource,
			"backend_override.tf.json": `{"terraform": {"backend": {"local": {"path": "x"}}}}`,
		}},
		{name: "skipped file", skip: []string{"zz_atoll_backend.tf"}, files: map[string]string{
			"main.tf":             resource,
			"zz_atoll_backend.tf": s3,
		}},
		{name: "not a configuration file", files: map[string]string{
			"backend.tf.bak": s3,
			"notes.md":       s3,
		}},
		{name: "editor file", files: map[string]string{".#backend.tf": s3, "backend.tf~": s3}},
		{name: ".tofu read by OpenTofu", dist: OpenTofu, want: true, files: map[string]string{"backend.tofu": s3}},
		{name: ".tofu not read by Terraform", dist: Terraform, files: map[string]string{"backend.tofu": s3}},
		{name: ".tofu hides .tf of the same name", dist: OpenTofu, files: map[string]string{
			"backend.tf":   s3,
			"backend.tofu": resource,
		}},
		{name: "syntax error elsewhere", want: true, files: map[string]string{
			"main.tf":    "resource \"x\" {\n",
			"backend.tf": s3,
		}},
		{name: "syntax error in the only file", files: map[string]string{
			"main.tf": "terraform {\n  backend \"s3\" {\n",
		}},
		{name: "malformed JSON", files: map[string]string{
			"main.tf.json": `{"terraform": {"backend": `,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			got, err := HasBackend(dir, tt.dist, tt.skip...)
			if err != nil {
				t.Fatalf("HasBackend: %v", err)
			}
			if got != tt.want {
				t.Errorf("HasBackend = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHasBackendMissingDir(t *testing.T) {
	if _, err := HasBackend(t.TempDir()+"/missing", Terraform); err == nil {
		t.Fatal("HasBackend of a missing dir: no error")
	}
}

// TestHasBackendRefusesNonRegularFiles checks that a .tf file a pull
// request made a symlink to a FIFO or /dev/zero does not block or exhaust
// atoll (which parses the files outside the sandbox): it is skipped.
func TestHasBackendRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.tf"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.tf")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := HasBackend(dir, Terraform)
		if err == nil {
			_, err = requiredVersion(dir, Terraform)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("HasBackend blocked on a FIFO or device")
	}
}
