package runner

import (
	"github.com/atollhq/atoll/runner/projects"
)

// The repository configuration and project discovery are
// runner/projects' (wire.go builds the Loader); these names keep the
// engine's code short.

// RepoConfigFile is the repository configuration's path at the repo root.
const RepoConfigFile = projects.RepoConfigFile

type (
	RepoConfig  = projects.RepoConfig
	configError = projects.ConfigError
)
