package clearance

import (
	"context"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// PolicyCheck writes the `atoll/policy: NAME` check run of plan job j at
// its head, from its project's result pr as the plan comment shows it: a
// failure (or an error) of a mandatory set fails it, one of an advisory
// set alone makes it neutral, and a set approved by its owners passes. A
// new check run of the same name replaces the old one, so branch
// protection that requires it follows approvals. A failure to write it is
// logged.
func (g *Gatherer) PolicyCheck(ctx context.Context, j records.Job, pr templates.ProjectResult) {
	out, err := g.d.Templates.RenderCheckSummary(templates.CheckSummary{Stage: templates.CheckPolicy, Project: pr})
	if err != nil {
		return
	}
	_, err = g.d.Host.CreateCheckRun(ctx, j.Repo, vcs.CheckRun{Name: out.Name, HeadSHA: j.HeadSHA, Status: vcs.CheckCompleted,
		Conclusion: policyConclusion(pr.Policies), Title: out.Title, Summary: g.d.View.Mask(out.Summary), DetailsURL: g.d.JobURL(j.ID)})
	if err != nil {
		g.d.Log.Warn("policy check run", "job", j.ID, "err", err)
	}
}

// policyConclusion is the check run's conclusion for policies.
func policyConclusion(policies []templates.PolicyResult) string {
	conclusion := vcs.ConclusionSuccess
	for _, p := range policies {
		if p.Status == templates.PolicyFailed || p.Status == templates.PolicyError {
			if p.Enforcement == "advisory" {
				conclusion = vcs.ConclusionNeutral
				continue
			}
			return vcs.ConclusionFailure
		}
	}
	return conclusion
}
