package bench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/vcs"
	"github.com/atollhq/atoll/vcs/git"
)

// p4: discovery in a generated repository, as atoll discovers: the
// commit's configuration files read from its mirror's objects (one git
// ls-tree, one git cat-file; the mirror packed, as a fetch leaves it),
// then the projects found from them. The
// result also gives discovery in a checkout of it, for comparison.
func (b *bench) p4(ctx context.Context) (Row, error) {
	root, err := b.dir("p4")
	if err != nil {
		return Row{}, err
	}
	src := filepath.Join(root, "src")
	changed, err := discoveryTree(src, b.o.P4Dirs, b.o.P4Changed)
	if err != nil {
		return Row{}, err
	}
	m := &git.Mirrors{Dir: filepath.Join(root, "mirrors")}
	repo := vcs.Repo{Owner: "acme", Name: "p4"}
	mirror, err := m.MirrorPath(repo)
	if err != nil {
		return Row{}, err
	}
	for _, args := range [][]string{{"init", "--quiet", src}, {"-C", src, "add", "-A"},
		{"-C", src, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "--quiet", "-m", "tree"},
		{"clone", "--bare", "--no-local", "--quiet", src, mirror}} {
		if out, err := exec.CommandContext(ctx, "git", args...).CombinedOutput(); err != nil {
			return Row{}, fmt.Errorf("git %s: %w: %s", args[0], err, out)
		}
	}
	out, err := exec.CommandContext(ctx, "git", "-C", src, "rev-parse", "HEAD").Output()
	if err != nil {
		return Row{}, err
	}
	sha := strings.TrimSpace(string(out))
	var got, walked []time.Duration
	n := 0
	for range max(b.o.Runs, 5) {
		t0 := time.Now()
		files, err := m.TreeFiles(ctx, repo, sha, discovery.WantFile, 8<<20)
		if err != nil {
			return Row{}, err
		}
		ps, err := discovery.DiscoverFiles(ctx, files, changed, discovery.Options{})
		if err != nil {
			return Row{}, err
		}
		got = append(got, time.Since(t0))
		n = len(ps)
		t1 := time.Now()
		if _, err := discovery.Discover(ctx, src, changed, discovery.Options{}); err != nil {
			return Row{}, err
		}
		walked = append(walked, time.Since(t1))
	}
	return Row{Result: fmt.Sprintf("%s, %d projects found (in a checkout: %s)", statsOf(got), n, dur(statsOf(walked).med))}, nil
}

// discoveryTree writes a repository of about dirs directories: a fifth
// projects (in environments, each calling a module), a twenty-fifth
// modules calling each other in chains of ten, the rest application code;
// it returns a change set of n files: half project files, a quarter
// module files, a quarter others.
func discoveryTree(root string, dirs, n int) ([]string, error) {
	body := strings.Repeat("resource \"terraform_data\" \"r\" {\n  input = \"${var.name}-x\"\n}\n", 10)
	vars := strings.Repeat("variable \"v\" {\n  type = string\n  default = \"x\"\n}\n", 5)
	files := map[string]string{}
	modules, projects := max(dirs/25, 1), max(dirs/5, 1)
	for m := range modules {
		main := body
		if m%10 != 9 && m+1 < modules {
			main += fmt.Sprintf("module \"next\" {\n  source = \"../m%04d\"\n  name = var.name\n}\n", m+1)
		}
		files[fmt.Sprintf("modules/m%04d/main.tf", m)] = main
		files[fmt.Sprintf("modules/m%04d/variables.tf", m)] = vars
	}
	for p := range projects {
		d := fmt.Sprintf("envs/e%02d/s%04d", p%20, p)
		files[d+"/main.tf"] = body + fmt.Sprintf("module \"a\" {\n  source = \"../../../modules/m%04d\"\n  name = \"a\"\n}\n", p%modules)
		files[d+"/variables.tf"] = vars
		files[d+"/terraform.tfvars"] = "name = \"x\"\n"
	}
	apps := max(dirs-modules-projects-22, 1)
	for a := range apps {
		files[fmt.Sprintf("apps/a%05d/code.go", a)] = "package x\n"
	}
	if err := writeFiles(root, files); err != nil {
		return nil, err
	}
	var changed []string
	for i := range n {
		switch i % 4 {
		case 0, 1:
			p := (i * 7) % projects
			changed = append(changed, fmt.Sprintf("envs/e%02d/s%04d/main.tf", p%20, p))
		case 2:
			changed = append(changed, fmt.Sprintf("modules/m%04d/variables.tf", (i*3)%modules))
		default:
			changed = append(changed, fmt.Sprintf("apps/a%05d/code.go", i%apps))
		}
	}
	return changed, nil
}
