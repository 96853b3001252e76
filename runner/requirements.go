package runner

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/atollhq/atoll/runner/discovery"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Apply requirements a project may name.
const (
	ReqApproved       = "approved"
	ReqMergeable      = "mergeable"
	ReqUndiverged     = "undiverged"
	ReqPoliciesPassed = "policies_passed"
)

// prFacts are what the requirement checks read of a PR, fetched once.
type prFacts struct {
	pr        vcs.PullRequest
	baseHead  string
	approvers []string // writers other than the author whose latest review approves
	reviews   []vcs.Review
	changed   []string
	// rc is atoll.yaml of the base branch: its reviewer rules add to the
	// server's (a pull request cannot drop them by editing its own copy).
	rc RepoConfig
	// codeOwners is the base branch's CODEOWNERS (nil: none), with
	// code_owners on.
	codeOwners    *codeOwners
	codeOwnersErr error
	// applying are the projects this apply applies, by name, with their
	// execution order groups; prPlans the pull request's plans by project
	// name, read when a project has depends_on.
	applying map[string]int
	prPlans  map[string]Plan
}

// checkRequirements returns every project whose requirements are unmet,
// each with every unmet requirement.
func (r *Runner) checkRequirements(ctx context.Context, pr vcs.PullRequest, rc RepoConfig, plans []Plan) ([]templates.RefusedProject, error) {
	facts, err := r.gatherFacts(ctx, pr, rc)
	if err != nil {
		return nil, err
	}
	facts.applying = map[string]int{}
	for _, p := range plans {
		facts.applying[p.Project.Name] = p.Project.OrderGroup
	}
	var refused []templates.RefusedProject
	for _, p := range plans {
		unmet := r.unmetFor(ctx, facts, p)
		if len(unmet) > 0 {
			refused = append(refused, templates.RefusedProject{Name: p.Project.Name, Unmet: unmet})
		}
	}
	return refused, nil
}

func (r *Runner) gatherFacts(ctx context.Context, pr vcs.PullRequest, rc RepoConfig) (*prFacts, error) {
	f := &prFacts{pr: pr, rc: rc}
	if pr.Mergeable == nil { // GitHub is still computing it: ask once more
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
		if again, err := r.host.GetPullRequest(ctx, pr.Repo, pr.Number); err == nil {
			again.Repo.InstallationID = pr.Repo.InstallationID
			f.pr = again
		}
	}
	head, err := r.host.BranchSHA(ctx, pr.Repo, pr.BaseRef)
	if err != nil {
		return nil, fmt.Errorf("head of %s: %w", pr.BaseRef, err)
	}
	f.baseHead = head
	reviews, err := r.host.ListReviews(ctx, pr.Repo, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("reviews of #%d: %w", pr.Number, err)
	}
	f.reviews = latestReviews(reviews)
	for _, rv := range f.reviews {
		if rv.State != vcs.ReviewApproved || strings.EqualFold(rv.User, pr.Author) {
			continue
		}
		if r.set.DismissStale && rv.CommitID != pr.HeadSHA {
			continue
		}
		perm, err := r.host.UserPermission(ctx, pr.Repo, rv.User)
		if err != nil {
			return nil, fmt.Errorf("permission of %s: %w", rv.User, err)
		}
		r.auditReview(ctx, pr, rv.User, perm)
		if perm.AtLeast(vcs.PermissionWrite) {
			f.approvers = append(f.approvers, rv.User)
		}
	}
	if len(r.set.RequiredReviewers) > 0 || rc.hasReviewerRules() || r.set.CodeOwners {
		files, complete, err := r.host.ListPullRequestFiles(ctx, pr.Repo, pr.Number)
		if err != nil {
			return nil, fmt.Errorf("changed files of #%d: %w", pr.Number, err)
		}
		if !complete {
			if files, err = r.git.ChangedFiles(ctx, pr.Repo, pr.BaseSHA, pr.HeadSHA); err != nil {
				return nil, fmt.Errorf("changed files of #%d from git: %w", pr.Number, err)
			}
		}
		f.changed = files
	}
	if r.set.CodeOwners {
		f.codeOwners, f.codeOwnersErr = r.readCodeOwners(ctx, pr.Repo, head)
	}
	return f, nil
}

// latestReviews keeps each user's latest review that counts: comments do
// not replace an approval or a change request.
func latestReviews(reviews []vcs.Review) []vcs.Review {
	latest := map[string]vcs.Review{}
	var order []string
	for _, rv := range reviews {
		if rv.State == vcs.ReviewCommented || rv.State == "PENDING" {
			continue
		}
		if _, ok := latest[rv.User]; !ok {
			order = append(order, rv.User)
		}
		latest[rv.User] = rv
	}
	out := make([]vcs.Review, 0, len(order))
	for _, u := range order {
		out = append(out, latest[u])
	}
	return out
}

// requirementsOf are a project's requirements: its own list (atoll.yaml
// already merged with the server's) or the server's defaults.
func (r *Runner) requirementsOf(p Project) []string {
	if p.ApplyRequirements != nil {
		return p.ApplyRequirements
	}
	return r.set.ApplyRequirements
}

// unmetFor lists every unmet requirement of one plan, as "`name`: why".
func (r *Runner) unmetFor(ctx context.Context, f *prFacts, p Plan) []string {
	var unmet []string
	pr := f.pr
	// Always on: the plan is of the current head (and base, when merged).
	if p.HeadSHA != pr.HeadSHA {
		unmet = append(unmet, fmt.Sprintf("`plan`: planned for %s, the head is now %s; comment `atoll plan`", short(p.HeadSHA), short(pr.HeadSHA)))
	} else if r.set.CheckoutStrategy != "branch" && p.BaseSHA != f.baseHead {
		unmet = append(unmet, fmt.Sprintf("`plan`: planned on %s at %s, which is now at %s; comment `atoll plan`", pr.BaseRef, short(p.BaseSHA), short(f.baseHead)))
	}
	if sum, err := fileSHA256(p.File); err != nil || sum != p.SHA256 {
		unmet = append(unmet, "`plan`: the plan file does not match the one recorded; comment `atoll plan`")
	}
	unmet = append(unmet, r.unmetOf(ctx, f, r.requirementsOf(p.Project))...)
	// Policies cannot be turned off by any repo configuration.
	job := Job{Repo: pr.Repo, Number: pr.Number, Project: p.Project, HeadSHA: pr.HeadSHA, PRAuthor: pr.Author}
	unmet = append(unmet, r.unmetPolicies(ctx, job, p.Policies)...)
	unmet = append(unmet, r.unmetReviewers(ctx, f, p.Project.Name, p.Project.Dir)...)
	unmet = append(unmet, r.unmetCodeOwners(ctx, f)...)
	if len(p.Project.DependsOn) > 0 && p.Number > 0 {
		if f.prPlans == nil {
			f.prPlans = map[string]Plan{}
			if all, err := list[Plan](ctx, r.rec, bucketPlans, prKey(p.Repo, p.Number)+"#"); err == nil {
				for _, q := range all {
					if q.State != PlanMerged {
						f.prPlans[q.Project.Name] = q
					}
				}
			}
		}
		unmet = append(unmet, unmetDependencies(p, f.prPlans, f.applying)...)
	}
	return unmet
}

// unmetOf lists which of reqs (approved, mergeable, undiverged; others
// are checked elsewhere) the pull request does not meet, as "`name`: why".
func (r *Runner) unmetOf(ctx context.Context, f *prFacts, reqs []string) []string {
	var unmet []string
	pr := f.pr
	for _, req := range reqs {
		switch req {
		case ReqApproved:
			if len(f.approvers) < r.set.Approvals {
				unmet = append(unmet, fmt.Sprintf("`approved`: %d of %d approving reviews by writers other than the author", len(f.approvers), r.set.Approvals))
			}
		case ReqMergeable:
			if why := r.notMergeable(ctx, pr); why != "" {
				unmet = append(unmet, "`mergeable`: "+why)
			}
		case ReqUndiverged:
			ok, err := r.git.IsAncestor(ctx, pr.Repo, f.baseHead, pr.HeadSHA)
			if err != nil || !ok {
				unmet = append(unmet, fmt.Sprintf("`undiverged`: the branch does not contain the head of %s (%s); merge or rebase it", pr.BaseRef, short(f.baseHead)))
			}
		}
	}
	return unmet
}

// unmetPlanRequirements lists the project's plan_requirements the pull
// request does not meet.
func (r *Runner) unmetPlanRequirements(ctx context.Context, pr vcs.PullRequest, reqs []string) ([]string, error) {
	if slices.Contains(reqs, ReqUndiverged) {
		if err := r.fetchPR(ctx, pr); err != nil { // the base head, to compare with
			return nil, err
		}
	}
	f, err := r.gatherFacts(ctx, pr, RepoConfig{})
	if err != nil {
		return nil, err
	}
	return r.unmetOf(ctx, f, reqs), nil
}

// notMergeable says why GitHub would not merge the PR, ignoring atoll's
// own checks; "" when it would.
func (r *Runner) notMergeable(ctx context.Context, pr vcs.PullRequest) string {
	if pr.Mergeable != nil && !*pr.Mergeable {
		return "the pull request has conflicts with " + pr.BaseRef
	}
	switch pr.MergeableState {
	case "dirty":
		return "the pull request has conflicts with " + pr.BaseRef
	case "draft":
		return "the pull request is a draft"
	case "blocked", "unstable":
		runs, err := r.host.ListCheckRuns(ctx, pr.Repo, pr.HeadSHA)
		if err != nil {
			return "could not read the checks: " + err.Error()
		}
		var failing []string
		for _, c := range runs {
			if strings.HasPrefix(c.Name, "atoll/") {
				continue
			}
			if c.Status != vcs.CheckCompleted || (c.Conclusion != vcs.ConclusionSuccess && c.Conclusion != vcs.ConclusionNeutral && c.Conclusion != vcs.ConclusionSkipped) {
				failing = append(failing, c.Name)
			}
		}
		if len(failing) > 0 {
			sort.Strings(failing)
			return "checks not passing: " + strings.Join(failing, ", ")
		}
	}
	return ""
}

// unmetReviewers checks the required reviewer rules of a project: the
// server's, then those the base branch's atoll.yaml adds. A rule without
// paths applies to every change.
func (r *Runner) unmetReviewers(ctx context.Context, f *prFacts, project, dir string) []string {
	var unmet []string
	rules := append(append([]ReviewerRule{}, r.set.RequiredReviewers...), f.rc.reviewerRules(project, dir)...)
	for _, rule := range rules {
		if len(rule.Paths) > 0 && !anyMatch(rule.Paths, f.changed) {
			continue
		}
		count := rule.Count
		if count <= 0 {
			count = 1
		}
		got := 0
		for _, u := range f.approvers {
			if r.memberOfAny(ctx, f.pr.Repo, u, rule.Teams) {
				got++
			}
		}
		if got < count {
			what := "every change"
			if len(rule.Paths) > 0 {
				what = "changes to " + strings.Join(rule.Paths, ", ")
			}
			unmet = append(unmet, fmt.Sprintf("`required_reviewers`: %d of %d approvals from %s for %s",
				got, count, strings.Join(prefixAt(rule.Teams), ", "), what))
		}
	}
	return unmet
}

func (r *Runner) memberOfAny(ctx context.Context, repo vcs.Repo, user string, teams []string) bool {
	for _, t := range teams {
		org, slug, ok := strings.Cut(t, "/")
		if !ok {
			continue
		}
		if m, err := r.host.IsTeamMember(ctx, repo, org, slug, user); err == nil && m {
			return true
		}
	}
	return false
}

// anyMatch reports whether a file matches one of the globs, with the glob
// syntax of discovery (and of atoll.yaml): "**" spans directories.
func anyMatch(globs, files []string) bool {
	for _, f := range files {
		for _, g := range globs {
			if discovery.Match(g, f) {
				return true
			}
		}
	}
	return false
}
