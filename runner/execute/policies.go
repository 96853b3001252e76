package execute

import (
	"context"
	"encoding/json"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// EvaluatePolicies judges a plan with every policy set that applies.
func (x *Jobs) EvaluatePolicies(ctx context.Context, job records.Job, pr vcs.PullRequest, planJSON []byte) []policy.Result {
	if x.cfg.Policies == nil || len(planJSON) == 0 {
		return nil
	}
	in := x.policyInput(ctx, job, pr, planJSON)
	// Sets scoped by project name match the name the base branch gives
	// the project's dir and workspace: a pull request cannot rename a
	// project out of a set's scope.
	scope := job.Project.Name
	if pr.Number > 0 && job.BaseSHA != "" {
		scope = x.cfg.Gate.BaseRules(ctx, job.Repo, job.BaseSHA, pr.BaseRef, job.Project).BaseName
	}
	results := x.cfg.Policies.Evaluate(ctx, job.Repo.FullName(), scope, in)
	if x.policyChecksOff(ctx, job) {
		results = x.scopedMandatory(results)
	}
	return results
}

// policyInput is the document policies judge job's plan by. Its changed
// files are all the pull request's, from git where the code host's list
// is incomplete; none when they cannot be listed (the failure is logged).
func (x *Jobs) policyInput(ctx context.Context, job records.Job, pr vcs.PullRequest, planJSON []byte) policy.Input {
	in := policy.Input{
		Plan:    json.RawMessage(planJSON),
		Project: policy.ProjectInput{Name: job.Project.Name, Dir: job.Project.Dir, Workspace: job.Project.Workspace, Distribution: x.distributionOf(job.Project)},
		PullRequest: policy.PullRequestInput{Number: pr.Number, Author: pr.Author, Base: pr.BaseRef, HeadSHA: pr.HeadSHA,
			Labels: pr.Labels},
		Repo: job.Repo.FullName(),
		User: job.User,
	}
	if pr.Number > 0 {
		files, err := facts.ChangedFiles(ctx, x.host, x.git, pr)
		if err != nil {
			x.log.Warn("policies see no changed files", "pr", pr.Number, "err", err)
		}
		in.PullRequest.ChangedFiles = files
	}
	return in
}

func (x *Jobs) distributionOf(p records.Project) string {
	if p.Distribution != "" {
		return p.Distribution
	}
	return x.srv.Terraform.Distribution
}
