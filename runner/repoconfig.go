package runner

import (
	"errors"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/templates"
)

// parseRepoConfig checks an atoll.yaml against the server's rules and
// turns it into the runner's RepoConfig. A broken file is a *configError
// naming file, line and key of every problem.
func (r *Runner) parseRepoConfig(filename string, data []byte) (RepoConfig, error) {
	repo, err := r.cfg.ParseRepo(filename, data)
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			ce := &configError{File: filename}
			for _, fe := range ve.Errors {
				ce.Errors = append(ce.Errors, templates.FieldError{Line: fe.Line, Column: fe.Column, Key: fe.Key, Message: fe.Message})
			}
			return RepoConfig{}, ce
		}
		return RepoConfig{}, err
	}
	rc := RepoConfig{ApplyMode: string(repo.ApplyMode), Automerge: repo.Automerge, Ignore: repo.Ignore, Workflows: repo.Workflows}
	rc.DriftSchedule, rc.DriftEnabled = repo.DriftSchedule(r.driftServer())
	for _, p := range repo.Projects {
		rc.Projects = append(rc.Projects, ConfiguredProject{
			Project: Project{Name: p.Name, Dir: p.Dir, Workspace: p.Workspace, TerraformVersion: p.TerraformVersion,
				Distribution: p.Distribution, VarFiles: p.VarFiles, AutoRemediate: p.AutoRemediate,
				ApplyRequirements: r.effectiveRequirements(p), Workflow: p.Workflow},
			Autoplan: p.Autoplan.Enabled, WhenModified: p.Autoplan.WhenModified,
			RequiredReviewers: reviewerRules(p.RequiredReviewers),
		})
	}
	rc.RequiredReviewers = reviewerRules(repo.RequiredReviewers)
	if len(repo.Projects) == 0 && len(repo.ApplyRequirements) > 0 {
		rc.Defaults = r.effectiveRequirements(repo.DefaultProject("."))
	}
	return rc, nil
}

// effectiveRequirements are a configured project's apply requirements with
// the server's folded in.
func (r *Runner) effectiveRequirements(p config.Project) []string {
	if r.cfg.Requirements == nil {
		return nil
	}
	return r.cfg.Requirements(p)
}

func reviewerRules(rules []config.ReviewerRule) []ReviewerRule {
	var out []ReviewerRule
	for _, rule := range rules {
		out = append(out, ReviewerRule{Paths: rule.Paths, Teams: rule.Teams, Count: rule.Count})
	}
	return out
}
