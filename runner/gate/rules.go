package gate

import "path"

// BaseProject is a project as the base branch's atoll.yaml defines it.
type BaseProject struct {
	Name      string
	Dir       string
	Workspace string
	// Requirements are its effective requirements (server's folded in).
	Requirements []string
	// Reviewers are the rules atoll.yaml adds for it (top-level rules
	// included).
	Reviewers []ReviewerRule
}

// BaseConfig is the base branch's configuration as the gate reads it.
type BaseConfig struct {
	// Projects are the projects atoll.yaml lists; empty when it lists none
	// (every project is then discovered and takes the repository's rules).
	Projects []BaseProject
	// Requirements are the effective requirements of a project atoll.yaml
	// does not list: the server's with the file's top-level changes.
	Requirements []string
	// Reviewers are the file's top-level reviewer rules.
	Reviewers []ReviewerRule
	// ServerReviewers are the server's reviewer rules, for every project.
	ServerReviewers []ReviewerRule
	// DefaultName names a project the base does not list (discovery's
	// naming: the dir, with ":WORKSPACE" unless default).
	DefaultName func(dir, workspace string) string
}

// Rules are the rules attached to one project.
type Rules struct {
	// BaseName is the project's name on the base branch: the name policy
	// sets scoped by `projects` match.
	BaseName     string
	New          bool // the base branch does not list it
	Requirements []string
	Reviewers    []ReviewerRule
}

// BaseRules returns the rules of the project at (dir, workspace) as the
// base branch defines them. A project the base lists keeps its rules and
// name whatever the pull request calls it. Another workspace of a dir the
// base lists (an ad-hoc workspace, or one the pull request adds) takes
// that dir's project's rules and name, so a new workspace never loosens
// what the base asks of the dir. A project in a dir the base does not list
// gets the repository-level rules, and its own name (prName) when the base
// lists projects (it is new), else the name discovery gives it.
func BaseRules(base BaseConfig, dir, workspace, prName string) Rules {
	dir = path.Clean(dir)
	if workspace == "" {
		workspace = "default"
	}
	serverRules := append([]ReviewerRule{}, base.ServerReviewers...)
	for _, p := range base.Projects {
		ws := p.Workspace
		if ws == "" {
			ws = "default"
		}
		if path.Clean(p.Dir) == dir && ws == workspace {
			return Rules{BaseName: p.Name, Requirements: p.Requirements, Reviewers: append(serverRules, p.Reviewers...)}
		}
	}
	for _, p := range base.Projects {
		if path.Clean(p.Dir) == dir {
			return Rules{BaseName: p.Name, Requirements: p.Requirements, Reviewers: append(serverRules, p.Reviewers...)}
		}
	}
	name := prName
	if len(base.Projects) == 0 && base.DefaultName != nil {
		name = base.DefaultName(dir, workspace)
	}
	return Rules{BaseName: name, New: len(base.Projects) > 0, Requirements: base.Requirements,
		Reviewers: append(serverRules, base.Reviewers...)}
}
