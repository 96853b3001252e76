package projects

import (
	"errors"
	"path"
	"strings"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

// Parse checks a repository configuration file of repoName (filename,
// its path at the repository root, and data, its bytes) for pull
// requests into base against srv's rules and turns it into a
// RepoConfig. A broken file is a *ConfigError naming line and key of
// every problem (its Commit is left for the caller). Present and File
// are left for the caller too.
func Parse(srv config.Server, repoName, base, filename string, data []byte) (RepoConfig, error) {
	parse := config.ParseAtlantis
	if path.Base(filename) == config.RepoFile {
		parse = config.ParseRepo
	}
	repo, err := parse(filename, data, srv.ForRepo(repoName, base))
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			ce := &ConfigError{File: filename}
			for _, fe := range ve.Errors {
				ce.Errors = append(ce.Errors, FieldError(fe))
			}
			return RepoConfig{}, ce
		}
		return RepoConfig{}, err
	}
	listed := len(repo.Projects) > 0
	repo = repo.ForBranch(base)
	rc := RepoConfig{DeleteSourceBranch: repo.DeleteSourceBranchOnMerge != nil && *repo.DeleteSourceBranchOnMerge,
		Autodiscover: repo.Autodiscover.Mode, Source: repo}
	if rc.Autodiscover == config.AutodiscoverAuto && len(repo.Projects) == 0 && listed {
		// Every project the file lists is for other base branches: none
		// is discovered in their place.
		rc.Autodiscover = config.AutodiscoverDisabled
	}
	for _, w := range repo.Warnings {
		rc.Warnings = append(rc.Warnings, FieldError(w))
	}
	rc.DriftSchedule, rc.DriftEnabled = repo.DriftSchedule(srv)
	for _, p := range repo.Projects {
		core := p.ProjectCore
		core.PolicyCheck = FirstBool(p.PolicyCheck, repo.PolicyCheck)
		rc.Projects = append(rc.Projects, ConfiguredProject{
			Project: records.Project{ProjectCore: core,
				ApplyRequirements: EffectiveRequirements(srv, repoName, base, p),
				OrderGroup:        p.ExecutionOrderGroup, DependsOn: p.DependsOn,
				AbortOnOrderFail: repo.AbortOnExecutionOrderFail != nil && *repo.AbortOnExecutionOrderFail,
				SerialPlan:       repo.ParallelPlan != nil && !*repo.ParallelPlan,
				SerialApply:      repo.ParallelApply != nil && !*repo.ParallelApply,
				LockMode:         p.LockMode(), Silence: p.SilencePRComments, PlanRequirements: p.PlanRequirements,
				DeleteSourceBranch: FirstBool(p.DeleteSourceBranchOnMerge, repo.DeleteSourceBranchOnMerge)},
			Autoplan: p.Autoplan.Enabled, WhenModified: p.Autoplan.WhenModified,
			RequiredReviewers: p.RequiredReviewers,
		})
	}
	// Discovered projects get the repository-level changes on top of the
	// server's requirements as the repo rules set them for this repository.
	rc.Defaults = EffectiveRequirements(srv, repoName, base, repo.DefaultProject("."))
	return rc, nil
}

// EffectiveRequirements are a configured project's apply requirements,
// by name, with the server's (as its repo rules set them for repo and
// base) folded in.
func EffectiveRequirements(srv config.Server, repo, base string, p config.Project) []string {
	return RequirementNames(p.EffectiveApplyRequirements(srv.ForRepo(repo, base)))
}

// RequirementNames are reqs by name.
func RequirementNames(reqs []config.Requirement) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, string(r))
	}
	return out
}

// FirstBool is the first of vs that is set, or nil.
func FirstBool(vs ...*bool) *bool {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

// FieldError is fe for the pull request comment: its kind and
// particulars, which config_problem.tmpl says in words.
func FieldError(fe config.FieldError) templates.FieldError {
	var allowed []string
	if fe.Allowed != "" {
		allowed = strings.Split(fe.Allowed, ", ")
	}
	return templates.FieldError{Line: fe.Line, Column: fe.Column, Key: fe.Key, Kind: string(fe.Kind),
		Name: fe.Name, Value: fe.Value, Other: fe.Other, Index: fe.Index, Suggestion: fe.Suggestion, Expected: fe.Expected, Got: fe.Got, Detail: fe.Detail,
		Size: fe.Size, Limit: fe.Limit, Count: fe.Count, Allowed: allowed, Warning: fe.Warning, Message: fe.Message}
}
