package discovery

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchTree writes a repository of 5,000 directories: 1,000 projects in 20
// environments, 200 modules calling each other in chains of ten, and 3,779
// directories of application code with no Terraform. It returns the root and
// a 200-file change set: 100 project files, 50 module files, 50 others.
func benchTree(b testing.TB) (string, []string) {
	b.Helper()
	root := b.TempDir()
	dirs := 0
	write := func(name, content string) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	body := strings.Repeat("resource \"terraform_data\" \"r\" {\n  input = \"${var.name}-x\"\n}\n", 10)
	vars := strings.Repeat("variable \"v\" {\n  type = string\n  default = \"x\"\n}\n", 5)
	dirs += 2 // envs, modules
	for m := 0; m < 200; m++ {
		main := body
		if m%10 != 9 {
			main += fmt.Sprintf("module \"next\" {\n  source = \"../m%03d\"\n  name = var.name\n}\n", m+1)
		}
		write(fmt.Sprintf("modules/m%03d/main.tf", m), main)
		write(fmt.Sprintf("modules/m%03d/variables.tf", m), vars)
		write(fmt.Sprintf("modules/m%03d/outputs.tf", m), "output \"o\" {\n  value = 1\n}\n")
		dirs++
	}
	for e := 0; e < 20; e++ {
		dirs++
		for s := 0; s < 50; s++ {
			d := fmt.Sprintf("envs/e%02d/s%02d", e, s)
			main := body + fmt.Sprintf("module \"a\" {\n  source = \"../../../modules/m%03d\"\n  name = \"a\"\n}\n", (e*50+s)%200)
			write(d+"/main.tf", main)
			write(d+"/variables.tf", vars)
			write(d+"/outputs.tf", "output \"o\" {\n  value = module.a\n}\n")
			write(d+"/terraform.tfvars", "name = \"x\"\n")
			dirs++
		}
	}
	for a := 0; dirs < 5000; a++ {
		write(fmt.Sprintf("apps/a%04d/README.md", a), "app")
		dirs++
		for _, sub := range []string{"src", "src/internal"} {
			if dirs < 5000 {
				write(fmt.Sprintf("apps/a%04d/%s/code.go", a, sub), "package x")
				dirs++
			}
		}
	}
	dirs++ // apps
	var changed []string
	for i := 0; i < 100; i++ {
		changed = append(changed, fmt.Sprintf("envs/e%02d/s%02d/main.tf", i%20, (i*7)%50))
	}
	for i := 0; i < 50; i++ {
		changed = append(changed, fmt.Sprintf("modules/m%03d/variables.tf", i*4))
	}
	for i := 0; i < 50; i++ {
		changed = append(changed, fmt.Sprintf("apps/a%04d/src/code.go", i))
	}
	return root, changed
}

func BenchmarkDiscover5000(b *testing.B) {
	root, changed := benchTree(b)
	ctx := context.Background()
	var n int
	b.ResetTimer()
	start := cpuTime(b)
	for b.Loop() {
		ps, err := Discover(ctx, root, changed, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n = len(ps)
	}
	b.ReportMetric(float64(n), "projects")
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e6, "cpu-ms/op")
}

func BenchmarkDiscover5000Configured(b *testing.B) {
	root, changed := benchTree(b)
	var configured []ConfiguredProject
	for e := 0; e < 20; e++ {
		for s := 0; s < 50; s++ {
			configured = append(configured, ConfiguredProject{Dir: fmt.Sprintf("envs/e%02d/s%02d", e, s)})
		}
	}
	ctx := context.Background()
	var n int
	b.ResetTimer()
	start := cpuTime(b)
	for b.Loop() {
		ps, err := Discover(ctx, root, changed, Options{Configured: configured})
		if err != nil {
			b.Fatal(err)
		}
		n = len(ps)
	}
	b.ReportMetric(float64(n), "projects")
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e6, "cpu-ms/op")
}
