package projects_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/vcs"
	"github.com/atollhq/atoll/vcs/git"
)

// origin is a repository in a temp dir that real mirrors fetch from.
type origin struct {
	t          *testing.T
	bare, work string
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	o := &origin{t: t, bare: filepath.Join(t.TempDir(), "infra.git"), work: t.TempDir()}
	o.git("", "init", "--bare", "--quiet", "--initial-branch=main", o.bare)
	o.git(o.work, "init", "--quiet", "--initial-branch=main")
	return o
}

func (o *origin) git(dir string, args ...string) string {
	o.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+o.work)
	out, err := cmd.CombinedOutput()
	if err != nil {
		o.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (and links, name → target) into main and pushes it.
func (o *origin) commit(files map[string]string, links map[string]string) string {
	o.t.Helper()
	for name, content := range files {
		p := filepath.Join(o.work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			o.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			o.t.Fatal(err)
		}
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(o.work, name)); err != nil {
			o.t.Fatal(err)
		}
	}
	o.git(o.work, "add", "-A")
	o.git(o.work, "commit", "--quiet", "-m", "change")
	o.git(o.work, "push", "--quiet", "--force", o.bare, "main:refs/heads/main")
	return o.git(o.work, "rev-parse", "HEAD")
}

// TestProjectsOfARealCommit: every project of a commit fetched into
// real mirrors, read from the mirror's objects; and again once a linked
// configuration file makes discovery need a checkout, which is removed
// afterwards. The code host is never asked for a file.
func TestProjectsOfARealCommit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required: ", err)
	}
	o := newOrigin(t)
	ctx := context.Background()
	first := o.commit(map[string]string{
		"atoll.yaml":      "version: 1\nautodiscover:\n  mode: enabled\nprojects:\n  - name: network\n    dir: network\n    execution_order_group: 1\n",
		"network/main.tf": "resource \"null_resource\" \"n\" {}\n",
		"app/main.tf":     "resource \"null_resource\" \"a\" {}\n",
	}, nil)
	m := &git.Mirrors{Dir: t.TempDir(), CloneURL: func(vcs.Repo) string { return o.bare }}
	if err := m.Fetch(ctx, repo); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(t.TempDir(), "work")
	h := &host{}
	g := &countingGit{Mirrors: m}
	l := &projects.Loader{Host: h, Git: g, Server: config.DefaultServer(), WorkDir: work}
	check := func(sha string, want []string) {
		t.Helper()
		rc, err := projects.Parse(config.DefaultServer(), repo.FullName(), "main", "atoll.yaml", []byte(o.git(o.work, "show", sha+":atoll.yaml")))
		if err != nil {
			t.Fatal(err)
		}
		all, err := l.All(ctx, repo, sha, rc)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(all); !slices.Equal(got, want) {
			t.Errorf("projects at %s = %v, want %v", sha[:7], got, want)
		}
		for _, p := range all {
			if p.Name == "network" && p.OrderGroup != 1 {
				t.Errorf("network lost atoll.yaml's settings: %+v", p)
			}
		}
	}
	check(first, []string{"app", "network"})
	if g.worktrees != 0 {
		t.Errorf("%d checkouts for a commit the objects serve", g.worktrees)
	}

	linked := o.commit(map[string]string{"shared/main.tf": "resource \"null_resource\" \"s\" {}\n"},
		map[string]string{"shared/link.tf": "main.tf"})
	if err := m.Fetch(ctx, repo); err != nil {
		t.Fatal(err)
	}
	check(linked, []string{"app", "network", "shared"})
	if g.worktrees != 1 {
		t.Errorf("%d checkouts for a commit with a linked file, want 1", g.worktrees)
	}
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("worktrees left behind: %v", left)
	}
	if len(h.reads) != 0 {
		t.Errorf("the code host was asked for %v", h.reads)
	}
}

// countingGit is real mirrors that count the checkouts made.
type countingGit struct {
	*git.Mirrors
	worktrees int
}

func (g *countingGit) Worktree(ctx context.Context, repo vcs.Repo, sha, dest string) error {
	g.worktrees++
	return g.Mirrors.Worktree(ctx, repo, sha, dest)
}
