package projects

import (
	"context"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/runner/records"
)

// discoveryOptions are the discovery options of a repo configuration.
func discoveryOptions(rc RepoConfig, includeDisabled bool) discovery.Options {
	o := discovery.Options{Ignore: rc.Source.Ignore, IncludeAutoplanDisabled: includeDisabled,
		Autodiscover: rc.Autodiscover, IgnoreDirs: rc.Source.Autodiscover.IgnorePaths}
	for _, p := range rc.Projects {
		o.Configured = append(o.Configured, discovery.ConfiguredProject{Name: p.Name, Dir: p.Dir,
			Workspace: p.Workspace, WhenModified: p.WhenModified, AutoplanDisabled: !p.Autoplan})
	}
	return o
}

// withSettings gives discovered projects the settings atoll.yaml names.
func withSettings(found []discovery.Project, rc RepoConfig) []records.Project {
	byName := map[string]ConfiguredProject{}
	for _, p := range rc.Projects {
		byName[p.Name] = p
	}
	out := make([]records.Project, 0, len(found))
	for _, f := range found {
		p := records.Project{ProjectCore: config.ProjectCore{Name: f.Name, Dir: f.Dir, Workspace: f.Workspace}}
		if c, ok := byName[f.Name]; ok {
			p = c.Project
			p.Name, p.Dir, p.Workspace = f.Name, f.Dir, f.Workspace
		}
		if p.ApplyRequirements == nil {
			p.ApplyRequirements = rc.Defaults
		}
		if p.PolicyCheck == nil {
			p.PolicyCheck = rc.Source.PolicyCheck
		}
		if p.Workspace == "" {
			p.Workspace = discovery.DefaultWorkspace
		}
		out = append(out, p)
	}
	return out
}

// commitTree is a commit discovery reads: its checkout (root) or its
// configuration files (files, when not nil; see discovery.DiscoverFiles).
type commitTree struct {
	root  string
	files map[string][]byte
}

// discoverChanged finds the projects the changed files touch; autoplan
// tells those that plan by themselves.
func discoverChanged(ctx context.Context, tree commitTree, changed []string, rc RepoConfig) ([]Affected, error) {
	var found []discovery.Project
	var err error
	if tree.files != nil {
		found, err = discovery.DiscoverFiles(ctx, tree.files, changed, discoveryOptions(rc, true))
	} else {
		found, err = discovery.Discover(ctx, tree.root, changed, discoveryOptions(rc, true))
	}
	if err != nil {
		return nil, err
	}
	auto := map[string]bool{}
	for _, p := range rc.Projects {
		auto[p.Name] = p.Autoplan
	}
	var out []Affected
	for _, p := range withSettings(found, rc) {
		a, configured := auto[p.Name]
		out = append(out, Affected{Project: p, Autoplan: !configured || a})
	}
	return out, nil
}

// discoverAll lists every project of the commit.
func discoverAll(ctx context.Context, tree commitTree, rc RepoConfig) ([]records.Project, error) {
	var found []discovery.Project
	var err error
	if tree.files != nil {
		found, err = discovery.AllFiles(ctx, tree.files, discoveryOptions(rc, true))
	} else {
		found, err = discovery.All(ctx, tree.root, discoveryOptions(rc, true))
	}
	if err != nil {
		return nil, err
	}
	return withSettings(found, rc), nil
}
