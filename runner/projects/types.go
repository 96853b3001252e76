package projects

import (
	"fmt"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

// RepoConfigFile is the repository configuration's path at the repo root.
const RepoConfigFile = "atoll.yaml"

// RepoConfig is atoll.yaml (or atlantis.yaml) as the runner uses it.
// Present is false when the repository has none.
type RepoConfig struct {
	Present bool
	// File is the file read: atoll.yaml, or the Atlantis-style file.
	File     string
	Projects []ConfiguredProject
	// DeleteSourceBranch is the file's top-level
	// delete_source_branch_on_merge: automerge deletes the merged branch
	// unless every merged project's own setting says otherwise.
	DeleteSourceBranch bool
	// DriftSchedule and DriftEnabled are the repository's drift schedule,
	// the server's unless drift.repo_override lets atoll.yaml set its own.
	DriftSchedule string
	DriftEnabled  bool
	// Defaults are the apply requirements of projects the file does not
	// list: the server's as its repo rules set them for the repository,
	// changed by the file's top-level apply_requirements; nil: the
	// server's.
	Defaults []string
	// Autodiscover is the file's autodiscover.mode, disabled when every
	// project the file lists is for other base branches.
	Autodiscover string
	// Warnings are the keys the file sets that atoll does not act on.
	Warnings []templates.FieldError
	// Source is the file as read, with the projects of other base
	// branches left out: its apply mode, automerge, ignore globs,
	// autodiscover.ignore_paths, top-level reviewer rules (added to the
	// server's for every project it does not list), workflows and
	// policy_check, read from it as they are.
	Source config.Repo
}

// ConfiguredProject is a project atoll.yaml names.
type ConfiguredProject struct {
	records.Project
	Autoplan     bool
	WhenModified []string
	// RequiredReviewers are the top-level rules followed by the project's
	// own, all with paths relative to the repository root.
	RequiredReviewers []config.ReviewerRule
}

// ConfigError is a broken repository configuration: where and what.
type ConfigError struct {
	File   string
	Commit string
	Errors []templates.FieldError
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: %d error(s) in the repository configuration", e.File, len(e.Errors))
}

// Affected is a project a change touches, and whether it plans by itself.
type Affected struct {
	records.Project
	Autoplan bool
}
