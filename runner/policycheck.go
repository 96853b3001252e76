package runner

import (
	"context"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/config"
)

// policyChecksOff reports whether policy checks are turned off for job's
// project: by the server's repo_rules (policy_check: false), or by the
// repository file's policy_check: false where those rules list
// policy_check in allowed_overrides. The file alone never turns them off.
func (r *Runner) policyChecksOff(ctx context.Context, job Job) bool {
	rs := config.RepoSettings{PolicyCheck: true}
	if len(r.srv.RepoRules) > 0 {
		rs = r.srv.RepoSettings(job.Repo.FullName(), r.baseRefOf(ctx, job))
	}
	if !rs.PolicyCheck {
		return true
	}
	p := job.Project.PolicyCheck
	return p != nil && !*p && rs.MayOverride(config.OverridePolicyCheck)
}

// scopedMandatory keeps the results of the mandatory sets the server
// scopes to the repository by name (their `repos`): with policy checks
// off, those still run, since the server asked for them for this
// repository in particular.
func (r *Runner) scopedMandatory(results []policy.Result) []policy.Result {
	var out []policy.Result
	for _, res := range results {
		set := r.policySet(res.Set)
		if set.Enforcement != policy.Advisory && len(set.Repos) > 0 {
			out = append(out, res)
		}
	}
	return out
}
