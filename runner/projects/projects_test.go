package projects_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// commit is a commit's files by path, as a code host and a mirror hold
// them.
type commit map[string]string

// host is a code host holding one commit and the files a PR changes.
type host struct {
	files   commit
	changed []string
	reads   []string
}

func (h *host) ReadFile(_ context.Context, _ vcs.Repo, _, path string) ([]byte, error) {
	h.reads = append(h.reads, path)
	s, ok := h.files[path]
	if !ok {
		return nil, vcs.ErrNotFound
	}
	return []byte(s), nil
}

func (h *host) ListPullRequestFiles(context.Context, vcs.Repo, int) ([]string, bool, error) {
	return h.changed, true, nil
}

// checkout is a mirror that can only check the commit out: discovery
// then reads the files from disk.
type checkout struct {
	files   commit
	fetched []string
	removed []string
}

func (g *checkout) Fetch(_ context.Context, _ vcs.Repo, specs ...string) error {
	g.fetched = append(g.fetched, specs...)
	return nil
}

func (g *checkout) Worktree(_ context.Context, _ vcs.Repo, _, dest string) error {
	for p, s := range g.files {
		f := filepath.Join(dest, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (g *checkout) RemoveWorktree(_ context.Context, _ vcs.Repo, dest string) error {
	g.removed = append(g.removed, dest)
	return os.RemoveAll(dest)
}

func (g *checkout) ChangedFiles(context.Context, vcs.Repo, string, string) ([]string, error) {
	return nil, errors.New("the code host's list is complete")
}

// objects is a mirror that also reads a commit's files from its objects
// and holds every commit already.
type objects struct{ checkout }

func (g *objects) TreeFiles(_ context.Context, _ vcs.Repo, _ string, want func(string) bool, _ int64) (map[string][]byte, error) {
	out := map[string][]byte{}
	for p, s := range g.files {
		if want(p) {
			out[p] = []byte(s)
		}
	}
	return out, nil
}

func (g *objects) HasCommits(context.Context, vcs.Repo, ...string) (bool, error) { return true, nil }

var repo = vcs.Repo{Owner: "acme", Name: "infra"}

func loader(t *testing.T, h projects.Host, g projects.Git) *projects.Loader {
	return &projects.Loader{Host: h, Git: g, Server: config.DefaultServer(), WorkDir: filepath.Join(t.TempDir(), "work")}
}

const atollYAML = `version: 1
projects:
  - name: network
    dir: network
    execution_order_group: 2
  - name: app
    dir: app
    autoplan:
      enabled: false
`

var tree = commit{
	"atoll.yaml":        atollYAML,
	"network/main.tf":   "resource \"null_resource\" \"n\" {}\n",
	"app/main.tf":       "resource \"null_resource\" \"a\" {}\n",
	"README.md":         "hello\n",
	"modules/x/main.tf": "variable \"v\" {}\n",
}

func names(ps []records.Project) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

// TestAffectedFromTheMirrorsObjects: a pull request changing network's
// and app's files affects both projects, with atoll.yaml's settings;
// app does not plan by itself; the configuration comes from the mirror,
// not from the code host, and nothing is checked out or fetched.
func TestAffectedFromTheMirrorsObjects(t *testing.T) {
	h := &host{files: tree, changed: []string{"network/main.tf", "app/main.tf", "README.md"}}
	g := &objects{checkout{files: tree}}
	got, rc, err := loader(t, h, g).Affected(context.Background(), vcs.PullRequest{Repo: repo, Number: 7, HeadSHA: "h", BaseSHA: "b", BaseRef: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if !rc.Present || rc.File != "atoll.yaml" {
		t.Errorf("configuration read: %v %q, want atoll.yaml", rc.Present, rc.File)
	}
	auto := map[string]bool{}
	for _, a := range got {
		auto[a.Name] = a.Autoplan
		if a.Name == "network" && a.OrderGroup != 2 {
			t.Errorf("network's execution order group = %d, want atoll.yaml's 2", a.OrderGroup)
		}
		if a.Workspace != "default" {
			t.Errorf("%s's workspace = %q, want default", a.Name, a.Workspace)
		}
	}
	if len(got) != 2 || !auto["network"] || auto["app"] {
		t.Errorf("affected = %v, want network (autoplan) and app (not)", auto)
	}
	if len(h.reads) != 0 || len(g.fetched) != 0 || len(g.removed) != 0 {
		t.Errorf("code host reads %v, fetches %v, checkouts %v: want none", h.reads, g.fetched, g.removed)
	}
}

// TestAllFromACheckout: a mirror that cannot read its objects gets the
// commit checked out into a temporary worktree, which is removed after;
// every project is found, those atoll.yaml lists and a discovered one.
func TestAllFromACheckout(t *testing.T) {
	files := commit{"atoll.yaml": "version: 1\nautodiscover:\n  mode: enabled\nprojects:\n  - name: network\n    dir: network\n",
		"network/main.tf": "resource \"null_resource\" \"n\" {}\n", "app/main.tf": "resource \"null_resource\" \"a\" {}\n"}
	h := &host{files: files}
	g := &checkout{files: files}
	l := loader(t, h, g)
	ctx := context.Background()
	rc, err := l.RepoConfig(ctx, repo, "h", "main")
	if err != nil {
		t.Fatal(err)
	}
	all, err := l.All(ctx, repo, "h", rc)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(all); !slices.Contains(got, "network") || len(got) != 2 {
		t.Errorf("projects = %v, want network and the discovered app", got)
	}
	if len(g.removed) != 1 {
		t.Fatalf("worktrees removed = %v, want the one checked out", g.removed)
	}
	if _, err := os.Stat(g.removed[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("worktree %s left behind", g.removed[0])
	}
}

// TestRepoConfigFallsBackToAtlantis: without atoll.yaml the
// Atlantis-style file is read; without either the server's requirements
// apply to every project.
func TestRepoConfigFallsBackToAtlantis(t *testing.T) {
	ctx := context.Background()
	h := &host{files: commit{"atlantis.yaml": "version: 3\nprojects:\n  - dir: net\n"}}
	rc, err := loader(t, h, &checkout{}).RepoConfig(ctx, repo, "h", "main")
	if err != nil {
		t.Fatal(err)
	}
	if !rc.Present || rc.File != "atlantis.yaml" || len(rc.Projects) != 1 || rc.Projects[0].Dir != "net" {
		t.Errorf("got %v %q %+v, want atlantis.yaml's project net", rc.Present, rc.File, rc.Projects)
	}
	if !slices.Equal(h.reads, []string{"atoll.yaml", "atlantis.yaml"}) {
		t.Errorf("read %v, want atoll.yaml then atlantis.yaml", h.reads)
	}

	srv := config.DefaultServer()
	none, err := (&projects.Loader{Host: &host{}, Git: &checkout{}, Server: srv}).RepoConfig(ctx, repo, "h", "main")
	if err != nil {
		t.Fatal(err)
	}
	if want := projects.EffectiveRequirements(srv, repo.FullName(), "main", config.Project{}); none.Present || !slices.Equal(none.Defaults, want) {
		t.Errorf("no file: present %v, defaults %v, want the server's %v", none.Present, none.Defaults, want)
	}
}

// TestBrokenConfigNamesFileCommitAndLine: a broken atoll.yaml is a
// *ConfigError with the file, the commit and each problem's line.
func TestBrokenConfigNamesFileCommitAndLine(t *testing.T) {
	h := &host{files: commit{"atoll.yaml": "version: 1\nprojects:\n  - dir: .\n    autoplan:\n      when_modifed: ['*.tf']\n"}}
	_, err := loader(t, h, &checkout{}).RepoConfig(context.Background(), repo, "abc1234", "main")
	var ce *projects.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ConfigError", err)
	}
	if ce.File != "atoll.yaml" || ce.Commit != "abc1234" || len(ce.Errors) != 1 || ce.Errors[0].Line != 5 || ce.Errors[0].Kind != string(config.KindUnknownKey) {
		t.Errorf("got %+v, want atoll.yaml at abc1234, an unknown key on line 5", ce)
	}
}

// TestFilter: -p, -d and -w each narrow the list; a directory matches
// however it is spelled.
func TestFilter(t *testing.T) {
	ps := []records.Project{{ProjectCore: config.ProjectCore{Name: "a", Dir: "x", Workspace: "default"}},
		{ProjectCore: config.ProjectCore{Name: "b", Dir: "x", Workspace: "prod"}},
		{ProjectCore: config.ProjectCore{Name: "c", Dir: "y", Workspace: "default"}}}
	for _, tc := range []struct {
		name, dir, ws string
		want          []string
	}{
		{"", "", "", []string{"a", "b", "c"}},
		{"b", "", "", []string{"b"}},
		{"", "./x/", "", []string{"a", "b"}},
		{"", "x", "default", []string{"a"}},
		{"", "z", "", nil},
	} {
		if got := names(projects.Filter(ps, tc.name, tc.dir, tc.ws)); !slices.Equal(got, tc.want) {
			t.Errorf("Filter(%q, %q, %q) = %v, want %v", tc.name, tc.dir, tc.ws, got, tc.want)
		}
	}
}
