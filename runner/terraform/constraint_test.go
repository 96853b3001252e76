package terraform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRequiredVersion(t *testing.T) {
	tests := []struct {
		name    string
		dist    Distribution
		files   map[string]string
		want    string // constraints' String(); "" for none
		wantErr string
	}{
		{name: "none", files: map[string]string{"main.tf": `resource "terraform_data" "x" {}`}},
		{name: "one", files: map[string]string{"versions.tf": `terraform { required_version = "~> 1.5.0" }`}, want: "~> 1.5.0"},
		{name: "several blocks all apply", files: map[string]string{
			"a.tf": `terraform { required_version = ">= 1.3" }`,
			"b.tf": "terraform {\n  required_providers {}\n}\nterraform {\n  required_version = \"< 2.0\"\n}\n",
		}, want: ">= 1.3,< 2.0"},
		{name: "json", files: map[string]string{"main.tf.json": `{"terraform": {"required_version": "1.5.7"}}`}, want: "1.5.7"},
		{name: "override wins", files: map[string]string{
			"main.tf":     `terraform { required_version = "1.4.0" }`,
			"override.tf": `terraform { required_version = ">= 1.5" }`,
		}, want: ">= 1.5"},
		{name: "tofu file hides tf file for opentofu", dist: OpenTofu, files: map[string]string{
			"versions.tf":   `terraform { required_version = "1.5.7" }`,
			"versions.tofu": `terraform { required_version = ">= 1.8" }`,
		}, want: ">= 1.8"},
		{name: "tofu files ignored by terraform", dist: Terraform, files: map[string]string{
			"versions.tf":   `terraform { required_version = "1.5.7" }`,
			"versions.tofu": `terraform { required_version = ">= 1.8" }`,
		}, want: "1.5.7"},
		{name: "editor backups ignored", files: map[string]string{".#main.tf": `terraform { required_version = "0.1" }`}},
		{name: "bad constraint", files: map[string]string{"main.tf": `terraform { required_version = "soon" }`}, wantErr: "main.tf"},
		{name: "not a string", files: map[string]string{"main.tf": `terraform { required_version = 15 }`}, wantErr: "string"},
		{name: "syntax error left to terraform", files: map[string]string{
			"main.tf":     `terraform {`,
			"versions.tf": `terraform { required_version = ">= 1.5" }`,
		}, want: ">= 1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			cs, err := requiredVersion(dir, tt.dist.orDefault())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if len(cs) > 0 {
				got = cs.String()
			}
			if got != tt.want {
				t.Errorf("constraints %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExactVersion(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when not exact
	}{
		{"1.5.7", "1.5.7"},
		{"= 1.5.7", "1.5.7"},
		{"=1.6.0-beta1", "1.6.0-beta1"},
		{">= 1.5.7", ""},
		{"~> 1.5", ""},
		{"!= 1.5.7", ""},
		{"1.5.7, < 2", ""},
	}
	for _, tt := range tests {
		cs, err := version.NewConstraint(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := exactVersion(cs)
		got := ""
		if ok {
			got = v.String()
		}
		if got != tt.want {
			t.Errorf("exactVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
