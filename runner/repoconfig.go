package runner

import (
	"errors"
	"path"
	"strings"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/templates"
)

// parseRepoConfig checks a repository configuration of repoName for pull
// requests into base against the server's rules and turns it into the
// runner's RepoConfig. A broken file is a *configError naming file, line
// and key of every problem.
func (r *Runner) parseRepoConfig(repoName, base, filename string, data []byte) (RepoConfig, error) {
	parse := config.ParseAtlantis
	if path.Base(filename) == config.RepoFile {
		parse = config.ParseRepo
	}
	repo, err := parse(filename, data, r.srv.ForRepo(repoName, base))
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			ce := &configError{File: filename}
			for _, fe := range ve.Errors {
				ce.Errors = append(ce.Errors, fieldError(fe))
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
		rc.Warnings = append(rc.Warnings, fieldError(w))
	}
	rc.DriftSchedule, rc.DriftEnabled = repo.DriftSchedule(r.srv)
	for _, p := range repo.Projects {
		rc.Projects = append(rc.Projects, ConfiguredProject{
			Project: Project{Name: p.Name, Dir: p.Dir, Workspace: p.Workspace, TerraformVersion: p.TerraformVersion,
				Distribution: p.Distribution, VarFiles: p.VarFiles, AutoRemediate: p.AutoRemediate,
				ApplyRequirements: r.effectiveRequirements(repoName, base, p), Workflow: p.Workflow,
				PolicyCheck: firstBool(p.PolicyCheck, repo.PolicyCheck),
				OrderGroup:  p.ExecutionOrderGroup, DependsOn: p.DependsOn,
				AbortOnOrderFail: repo.AbortOnExecutionOrderFail != nil && *repo.AbortOnExecutionOrderFail,
				SerialPlan:       repo.ParallelPlan != nil && !*repo.ParallelPlan,
				SerialApply:      repo.ParallelApply != nil && !*repo.ParallelApply,
				LockMode:         p.LockMode(), Silence: p.SilencePRComments, PlanRequirements: p.PlanRequirements,
				DeleteSourceBranch: firstBool(p.DeleteSourceBranchOnMerge, repo.DeleteSourceBranchOnMerge)},
			Autoplan: p.Autoplan.Enabled, WhenModified: p.Autoplan.WhenModified,
			RequiredReviewers: p.RequiredReviewers,
		})
	}
	// Discovered projects get the repository-level changes on top of the
	// server's requirements as the repo rules set them for this repository.
	rc.Defaults = r.effectiveRequirements(repoName, base, repo.DefaultProject("."))
	return rc, nil
}

// effectiveRequirements are a configured project's apply requirements with
// the server's folded in.
func (r *Runner) effectiveRequirements(repo, base string, p config.Project) []string {
	return requirementNames(p.EffectiveApplyRequirements(r.srv.ForRepo(repo, base)))
}

// configNote renders the keys the repository configuration sets that atoll
// does not act on, for the note atop a plan comment; "" when none.
func (r *Runner) configNote(rc RepoConfig) string {
	if len(rc.Warnings) == 0 {
		return ""
	}
	text, err := r.tmpl.RenderConfigWarnings(templates.ConfigWarnings{File: rc.File, Warnings: rc.Warnings})
	if err != nil {
		r.log.Error("render config warnings", "file", rc.File, "err", err)
		return ""
	}
	return text
}

// firstBool is the first of vs that is set, or nil.
func firstBool(vs ...*bool) *bool {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

// fieldError is fe for the pull request comment: its kind and particulars,
// which config_problem.tmpl says in words.
func fieldError(fe config.FieldError) templates.FieldError {
	var allowed []string
	if fe.Allowed != "" {
		allowed = strings.Split(fe.Allowed, ", ")
	}
	return templates.FieldError{Line: fe.Line, Column: fe.Column, Key: fe.Key, Kind: string(fe.Kind),
		Name: fe.Name, Value: fe.Value, Other: fe.Other, Index: fe.Index, Suggestion: fe.Suggestion, Expected: fe.Expected, Got: fe.Got, Detail: fe.Detail,
		Size: fe.Size, Limit: fe.Limit, Count: fe.Count, Allowed: allowed, Warning: fe.Warning, Message: fe.Message}
}
