// Package discovery finds the Terraform projects a pull request affects.
//
// A project is a root module (a directory) plus a workspace. Without an
// atoll.yaml project list, every directory holding .tf (or .tf.json, .tofu,
// .tofu.json) files is a project unless another directory calls it as a
// local module (`source = "./..."` or `"../..."`): then it is a module, and a
// change inside it plans every project that calls it, directly or through
// other local modules. With a project list, the listed projects are the only
// ones: a project is planned when a changed file matches one of its
// when_modified globs (relative to its dir) or when a local module it calls,
// transitively, changed.
//
// Paths are slash-separated and relative to the repository root; the root
// itself is ".". Output is sorted by dir, then workspace, then name, so it
// is deterministic.
package discovery

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Autodiscover modes (Options.Autodiscover).
const (
	AutodiscoverEnabled  = "enabled"
	AutodiscoverDisabled = "disabled"
)

// DefaultWorkspace is the workspace of a project that names none.
const DefaultWorkspace = "default"

// Project is one Terraform root module to plan: a directory and a workspace.
// Name is unique among the projects of a repository: for a configured project
// it is the name atoll.yaml gives (or DefaultName); for a discovered one it
// is its Dir ("." for the repository root).
type Project struct {
	Name      string
	Dir       string
	Workspace string
}

// ConfiguredProject is a project declared in atoll.yaml, as discovery needs
// it. An empty Name becomes DefaultName(Dir, Workspace); an empty Workspace
// becomes "default"; an empty WhenModified means DefaultWhenModified().
type ConfiguredProject struct {
	Name      string
	Dir       string
	Workspace string
	// WhenModified are globs relative to Dir (they may start with "../");
	// a changed file matching one of them plans the project.
	WhenModified []string
	// AutoplanDisabled keeps the project out of Discover (but not of All)
	// unless Options.IncludeAutoplanDisabled is set. The zero value, like
	// atoll.yaml's default, autoplans.
	AutoplanDisabled bool
}

// Options tunes Discover and All.
type Options struct {
	// Ignore are globs (see Glob) on repository paths. A changed file
	// matching one is not a change; a directory matching one is never a
	// discovered project (configured projects are kept).
	Ignore []string
	// Configured, when non-empty, are the only projects (atoll.yaml mode),
	// unless Autodiscover says otherwise.
	Configured []ConfiguredProject
	// Autodiscover is Atlantis's autodiscover.mode: "" or "auto"
	// (directories are discovered only when Configured is empty),
	// "enabled" (discovered projects are added to the configured ones, a
	// configured project winning for its dir) or "disabled" (only the
	// configured projects, even none).
	Autodiscover string
	// IgnoreDirs are globs (see Glob) on directories never discovered as
	// projects; unlike Ignore, changes under them still count for
	// configured projects.
	IgnoreDirs []string
	// IncludeAutoplanDisabled makes Discover consider configured projects
	// whose autoplan is disabled, for an explicit `atoll plan` comment.
	IncludeAutoplanDisabled bool
	// Concurrency bounds parallel directory and file reads (default 8).
	Concurrency int
}

// DefaultWhenModified returns the when_modified globs of a configured project
// that sets none: the Terraform and OpenTofu files directly in its dir.
// Subdirectories holding local modules are covered by module detection.
func DefaultWhenModified() []string {
	return []string{"*.tf", "*.tf.json", "*.tofu", "*.tofu.json", "*.tfvars", "*.tfvars.json", ".terraform.lock.hcl"}
}

// DefaultName is the name of a configured project that gives none: its dir,
// followed by ":" and the workspace when that is not "default".
func DefaultName(dir, workspace string) string {
	if workspace == "" || workspace == DefaultWorkspace {
		return dir
	}
	return dir + ":" + workspace
}

// IsTerraformFile reports whether a file name (or path) is one whose change
// affects the directory it lives in: .tf, .tf.json, .tofu, .tofu.json,
// .tfvars, .tfvars.json, or .terraform.lock.hcl.
func IsTerraformFile(name string) bool {
	base := path.Base(name)
	if base == ".terraform.lock.hcl" {
		return true
	}
	for _, ext := range [...]string{".tf", ".tf.json", ".tofu", ".tofu.json", ".tfvars", ".tfvars.json"} {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	return false
}

// isConfigFile reports whether a file makes its directory a Terraform module.
func isConfigFile(name string) bool {
	for _, ext := range [...]string{".tf", ".tf.json", ".tofu", ".tofu.json"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// Discover returns the projects that the changed files (repository-relative
// paths, as a pull request lists them, deleted files included) affect in the
// checkout at root. A changed path that no longer exists still counts for its
// directory. The result is sorted and never nil.
func Discover(ctx context.Context, root string, changed []string, o Options) ([]Project, error) {
	return discover(ctx, dirSource(root), changed, o)
}

// DiscoverFiles is Discover on a commit given as its configuration files
// (path to content, every file WantFile accepts; a file larger than 8 MiB
// may be given empty): the same projects as Discover on its checkout,
// without one.
func DiscoverFiles(ctx context.Context, files map[string][]byte, changed []string, o Options) ([]Project, error) {
	return discover(ctx, filesSource(files), changed, o)
}

// ignores compiles o's ignore globs: Ignore (on changed files and
// directories) and IgnoreDirs (on directories only).
func (o Options) ignores() (ignore, ignoreDirs []Glob, err error) {
	if ignore, err = CompileGlobs(o.Ignore); err != nil {
		return nil, nil, fmt.Errorf("discovery: ignore: %w", err)
	}
	if ignoreDirs, err = CompileGlobs(o.IgnoreDirs); err != nil {
		return nil, nil, fmt.Errorf("discovery: ignore_paths: %w", err)
	}
	return ignore, ignoreDirs, nil
}

func discover(ctx context.Context, src source, changed []string, o Options) ([]Project, error) {
	ignore, ignoreDirs, err := o.ignores()
	if err != nil {
		return nil, err
	}
	files := normalizeChanged(changed, ignore)
	if len(files) == 0 {
		return []Project{}, nil
	}
	var conf []Project
	if len(o.Configured) > 0 || o.Autodiscover == AutodiscoverDisabled {
		conf, err = discoverConfigured(ctx, src, files, o)
		if err != nil || o.Autodiscover != AutodiscoverEnabled {
			return conf, err
		}
	}
	t, err := src.all(ctx, o.concurrency())
	if err != nil {
		return nil, err
	}
	callers := t.callers()
	seen := map[string]bool{}
	var queue []string
	for _, f := range files {
		if !IsTerraformFile(f) {
			continue
		}
		d := path.Dir(f)
		if t.dirs[d].hasTF && !seen[d] {
			seen[d] = true
			queue = append(queue, d)
		}
	}
	var out []Project
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if len(callers[d]) == 0 && !MatchAny(ignore, d) && !MatchAny(ignoreDirs, d) {
			out = append(out, Project{Name: d, Dir: d, Workspace: DefaultWorkspace})
		}
		for _, c := range callers[d] {
			if !seen[c] {
				seen[c] = true
				queue = append(queue, c)
			}
		}
	}
	out = mergeConfigured(conf, out, o.Configured)
	sortProjects(out)
	return nonNil(out), nil
}

// mergeConfigured adds discovered projects to the configured ones found,
// leaving out those in a dir a configured project has (autodiscover
// enabled: the configured project wins for its dir).
func mergeConfigured(conf, found []Project, configured []ConfiguredProject) []Project {
	if len(configured) == 0 {
		return append(conf, found...)
	}
	dirs := map[string]bool{}
	for _, c := range configured {
		dirs[cleanDir(c.Dir)] = true
	}
	out := conf
	for _, p := range found {
		if !dirs[p.Dir] {
			out = append(out, p)
		}
	}
	return out
}

// All returns every project of the checkout at root: the configured ones
// (autoplan or not) when o.Configured is set, else every Terraform directory
// that no other directory calls as a local module and no ignore glob matches.
// Drift detection plans these. The result is sorted and never nil.
func All(ctx context.Context, root string, o Options) ([]Project, error) {
	return all(ctx, dirSource(root), o)
}

// AllFiles is All on a commit given as its configuration files (see
// DiscoverFiles).
func AllFiles(ctx context.Context, files map[string][]byte, o Options) ([]Project, error) {
	return all(ctx, filesSource(files), o)
}

func all(ctx context.Context, src source, o Options) ([]Project, error) {
	ignore, ignoreDirs, err := o.ignores()
	if err != nil {
		return nil, err
	}
	conf := make([]Project, 0, len(o.Configured))
	for _, c := range o.Configured {
		conf = append(conf, c.project())
	}
	if (len(o.Configured) > 0 && o.Autodiscover != AutodiscoverEnabled) || o.Autodiscover == AutodiscoverDisabled {
		sortProjects(conf)
		return conf, nil
	}
	t, err := src.all(ctx, o.concurrency())
	if err != nil {
		return nil, err
	}
	callers := t.callers()
	var out []Project
	for d, info := range t.dirs {
		if info.hasTF && len(callers[d]) == 0 && !MatchAny(ignore, d) && !MatchAny(ignoreDirs, d) {
			out = append(out, Project{Name: d, Dir: d, Workspace: DefaultWorkspace})
		}
	}
	out = mergeConfigured(conf, out, o.Configured)
	sortProjects(out)
	return nonNil(out), nil
}

// discoverConfigured resolves the atoll.yaml project list.
func discoverConfigured(ctx context.Context, src source, files []string, o Options) ([]Project, error) {
	changedDirs := map[string]bool{}
	for _, f := range files {
		if IsTerraformFile(f) {
			changedDirs[path.Dir(f)] = true
		}
	}
	var out []Project
	var pending []ConfiguredProject // not matched by a glob: check their modules
	for _, c := range o.Configured {
		if c.AutoplanDisabled && !o.IncludeAutoplanDisabled {
			continue
		}
		globs, err := c.globs()
		if err != nil {
			return nil, err
		}
		matched := false
		for _, f := range files {
			if globs.match(f) {
				matched = true
				break
			}
		}
		if matched {
			out = append(out, c.project())
		} else if len(changedDirs) > 0 {
			pending = append(pending, c)
		}
	}
	if len(pending) > 0 {
		starts := make([]string, 0, len(pending))
		for _, c := range pending {
			starts = append(starts, cleanDir(c.Dir))
		}
		g, err := src.closure(ctx, starts, o.concurrency())
		if err != nil {
			return nil, err
		}
		for _, c := range pending {
			if g.reaches(cleanDir(c.Dir), changedDirs) {
				out = append(out, c.project())
			}
		}
	}
	sortProjects(out)
	return nonNil(out), nil
}

func (c ConfiguredProject) project() Project {
	p := Project{Name: c.Name, Dir: cleanDir(c.Dir), Workspace: c.Workspace}
	if p.Workspace == "" {
		p.Workspace = DefaultWorkspace
	}
	if p.Name == "" {
		p.Name = DefaultName(p.Dir, p.Workspace)
	}
	return p
}

// whenModified is a compiled when_modified list: globs read in order, the
// last one matching a file deciding; one written with a leading "!"
// excludes (the .dockerignore rules Atlantis documents).
type whenModified []struct {
	glob    Glob
	exclude bool
}

func (w whenModified) match(f string) bool {
	in := false
	for _, g := range w {
		if g.glob.Match(f) {
			in = !g.exclude
		}
	}
	return in
}

// globs compiles when_modified, each joined to the project dir.
func (c ConfiguredProject) globs() (whenModified, error) {
	pats := c.WhenModified
	if len(pats) == 0 {
		pats = DefaultWhenModified()
	}
	dir := cleanDir(c.Dir)
	out := make(whenModified, 0, len(pats))
	for _, p := range pats {
		exclude := strings.HasPrefix(p, "!")
		g, err := CompileGlob(path.Join(dir, normalizePattern(strings.TrimPrefix(p, "!"))))
		if err != nil {
			return nil, fmt.Errorf("discovery: project %q: when_modified: %w", c.project().Name, err)
		}
		out = append(out, struct {
			glob    Glob
			exclude bool
		}{g, exclude})
	}
	return out, nil
}

func (o Options) concurrency() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return 8
}

// normalizeChanged cleans, dedupes and sorts the changed paths, dropping
// those outside the repository and those an ignore glob matches.
func normalizeChanged(changed []string, ignore []Glob) []string {
	seen := make(map[string]bool, len(changed))
	out := make([]string, 0, len(changed))
	for _, f := range changed {
		f = strings.ReplaceAll(f, `\`, "/")
		f = path.Clean(normalizePattern(f))
		if f == "." || f == ".." || strings.HasPrefix(f, "../") || seen[f] {
			continue
		}
		seen[f] = true
		if MatchAny(ignore, f) {
			continue
		}
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// cleanDir normalizes a configured dir: "", "./" and "/" are the root ".".
func cleanDir(d string) string {
	d = normalizePattern(strings.ReplaceAll(d, `\`, "/"))
	if d == "" {
		return "."
	}
	return path.Clean(d)
}

func sortProjects(ps []Project) {
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Dir != b.Dir {
			return a.Dir < b.Dir
		}
		if a.Workspace != b.Workspace {
			return a.Workspace < b.Workspace
		}
		return a.Name < b.Name
	})
}

func nonNil(ps []Project) []Project {
	if ps == nil {
		return []Project{}
	}
	return ps
}
