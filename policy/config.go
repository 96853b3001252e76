package policy

import (
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Formats of a policy set: how its Rego is read.
const (
	// FormatAtoll (the default): rules deny and warn in package atoll, the
	// input document {plan, project, pull_request, repo, user} (Input).
	FormatAtoll = "atoll"
	// FormatConftest: as conftest (and Atlantis) read policies: rules deny,
	// violation and warn, or named deny_*, violation_*, warn_*, in the
	// set's Namespaces (default main), with the bare `terraform show
	// -json` plan as input. Files in Rego v0 syntax (deny[msg] { ... }),
	// which older conftest policies use, are read as such.
	FormatConftest = "conftest"
)

// Enforcement levels of a policy set.
const (
	// Mandatory: a failing set blocks the apply until enough owners approve.
	Mandatory = "mandatory"
	// Advisory: a failing set is reported but never blocks.
	Advisory = "advisory"
)

// SetConfig describes one policy set, as written in the server configuration.
type SetConfig struct {
	// Name identifies the set in comments, checks and `atoll approve_policies`
	// commands. Required and unique.
	Name string
	// Path is the directory holding the set's .rego files (searched
	// recursively; hidden directories are skipped; other files are ignored).
	// Required.
	Path string
	// Owners may approve a failure: GitHub users ("alice") and teams
	// ("org/team-slug"). A leading "@" is dropped. A set with no owners can
	// never be approved: its denials always block (when mandatory).
	Owners []string
	// Approvals is the number of owner approvals needed to lift a failure.
	// Zero means 1; negative is an error.
	Approvals int
	// Enforcement is Mandatory (the default when empty) or Advisory.
	Enforcement string
	// Repos are path.Match globs on "owner/name" that the set applies to
	// ("acme/*", "acme/infra-*"). Empty means every repository.
	Repos []string
	// Projects are path.Match globs on the project name. Empty means every
	// project.
	Projects []string
	// AllowAuthorApproval lets an owner who authored the pull request approve
	// it. Off by default: an owner's own PR needs another owner.
	AllowAuthorApproval bool
	// ReviewApproves counts an approving pull request review by an owner as an
	// approval, beside the `atoll approve_policies` comment.
	ReviewApproves bool
	// Format is FormatAtoll (the default when empty) or FormatConftest.
	Format string
	// Namespaces are the Rego packages a conftest set's rules are read from
	// ("main", "terraform.aws"); empty means ["main"]. Only for
	// FormatConftest.
	Namespaces []string
}

// ownerPattern is a GitHub login or an org/team slug.
var ownerPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?(?:/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?)?$`)

// normalize returns a copy of c with defaults applied and owners cleaned.
func (c SetConfig) normalize() SetConfig {
	c.Name = strings.TrimSpace(c.Name)
	if c.Approvals == 0 {
		c.Approvals = 1
	}
	if c.Enforcement == "" {
		c.Enforcement = Mandatory
	}
	owners := make([]string, 0, len(c.Owners))
	for _, o := range c.Owners {
		owners = append(owners, strings.TrimPrefix(strings.TrimSpace(o), "@"))
	}
	c.Owners = owners
	c.Repos = slices.Clone(c.Repos)
	c.Projects = slices.Clone(c.Projects)
	if c.Format == "" {
		c.Format = FormatAtoll
	}
	c.Namespaces = slices.Clone(c.Namespaces)
	if c.Format == FormatConftest && len(c.Namespaces) == 0 {
		c.Namespaces = []string{"main"}
	}
	return c
}

// validate checks one normalized set; i is its position (from 1) for sets
// without a name.
func (c SetConfig) validate(i int) error {
	label := fmt.Sprintf("policy set %d", i)
	if c.Name != "" {
		label = fmt.Sprintf("policy set %q", c.Name)
	}
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	switch c.Enforcement {
	case Mandatory, Advisory:
	default:
		errs = append(errs, fmt.Errorf("unknown enforcement %q (want %q or %q)", c.Enforcement, Mandatory, Advisory))
	}
	switch c.Format {
	case FormatAtoll:
		if len(c.Namespaces) > 0 {
			errs = append(errs, errors.New("namespaces are read only by a set of format conftest"))
		}
	case FormatConftest:
		for _, ns := range c.Namespaces {
			if _, err := ast.ParseRef("data." + ns); err != nil || strings.ContainsAny(ns, "[]\" \t") {
				errs = append(errs, fmt.Errorf("namespace %q is not a Rego package name", ns))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("unknown format %q (want %q or %q)", c.Format, FormatAtoll, FormatConftest))
	}
	if c.Approvals < 0 {
		errs = append(errs, fmt.Errorf("approvals is %d: must be at least 1", c.Approvals))
	}
	for _, o := range c.Owners {
		if !ownerPattern.MatchString(o) {
			errs = append(errs, fmt.Errorf("owner %q is neither a user login nor an org/team slug", o))
		}
	}
	for _, g := range c.Repos {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Errorf("repos pattern %q: %w", g, err))
		}
	}
	for _, g := range c.Projects {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Errorf("projects pattern %q: %w", g, err))
		}
	}
	if c.Path == "" {
		errs = append(errs, errors.New("path is empty: it must name a directory of .rego files"))
	} else if fi, err := os.Stat(c.Path); err != nil {
		errs = append(errs, fmt.Errorf("path: %w", err))
	} else if !fi.IsDir() {
		errs = append(errs, fmt.Errorf("path %s is not a directory", c.Path))
	}
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s: %s", label, strings.Join(msgs, "; "))
}

// validateSets normalizes and validates every set, and checks names are
// unique. It returns all problems at once, joined.
func validateSets(sets []SetConfig) ([]SetConfig, error) {
	out := make([]SetConfig, len(sets))
	var errs []error
	seen := make(map[string]int, len(sets))
	for i, s := range sets {
		s = s.normalize()
		out[i] = s
		if err := s.validate(i + 1); err != nil {
			errs = append(errs, err)
		}
		if s.Name == "" {
			continue
		}
		if first, dup := seen[s.Name]; dup {
			errs = append(errs, fmt.Errorf("policy set %q: duplicate name (sets %d and %d)", s.Name, first, i+1))
			continue
		}
		seen[s.Name] = i + 1
	}
	return out, errors.Join(errs...)
}

// matches reports whether the set applies to repo ("owner/name") and
// project name. Patterns were validated, so match errors cannot occur.
func (c SetConfig) matches(repo, project string) bool {
	return matchAny(c.Repos, repo) && matchAny(c.Projects, project)
}

func matchAny(globs []string, s string) bool {
	if len(globs) == 0 {
		return true
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}
