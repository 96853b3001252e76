package gate

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/atollhq/atoll/runner/config"
)

// Path is a way an apply can happen.
type Path string

// Apply paths. Paths lists them all.
const (
	// PathComment: `atoll apply` on an open pull request (automerge merges
	// only after such applies).
	PathComment Path = "comment"
	// PathAfterMerge: the merge of a pull request whose apply mode applies
	// after merge.
	PathAfterMerge Path = "after_merge"
	// PathRetry: `atoll apply` on a merged pull request.
	PathRetry Path = "retry"
	// PathRemediation: `atoll apply` on a drift issue.
	PathRemediation Path = "remediation"
	// PathAutoRemediate: a drift plan applied without a comment.
	PathAutoRemediate Path = "auto_remediate"
)

// Paths are every apply path, for tests that prove each asks the gate.
var Paths = []Path{PathComment, PathAfterMerge, PathRetry, PathRemediation, PathAutoRemediate}

// Requirement names, as atoll.yaml and the server configuration write
// them: runner/config's requirements (see config.Requirement), by name.
const (
	ReqApproved       = string(config.Approved)
	ReqMergeable      = string(config.Mergeable)
	ReqUndiverged     = string(config.Undiverged)
	ReqPoliciesPassed = string(config.PoliciesPassed)
)

// Permission levels, lowest first.
var levels = []string{"none", "read", "triage", "write", "maintain", "admin"}

func atLeast(have, need string) bool {
	return slices.Index(levels, strings.ToLower(have)) >= slices.Index(levels, strings.ToLower(need))
}

// Review is one user's latest counting review (comments dropped), with
// what the gate needs to know of its author.
type Review struct {
	User        string
	Approved    bool // APPROVED; any other state withdraws
	CommitID    string
	SubmittedAt time.Time
	// Permission is the author's permission on the repository now.
	Permission string
}

// Plan is the stored plan to apply; nil for a path that plans and applies
// at once (after merge, retry) before that plan exists.
type Plan struct {
	HeadSHA string
	BaseSHA string
	// FileMatches is false when the plan file's SHA-256 differs from the
	// one recorded when it was made.
	FileMatches bool
	// ExtraArgs are the arguments given after `--` to `atoll plan`.
	ExtraArgs []string
	Created   time.Time
}

// PR is what the gate reads of a pull request.
type PR struct {
	Author  string
	HeadSHA string
	BaseRef string
	// BaseHead is the base branch's head now; CheckBase compares the plan's
	// base with it (checkout strategy "merge").
	BaseHead  string
	CheckBase bool
	Merged    bool
	// Mergeable and MergeableState are GitHub's (nil: still unknown).
	Mergeable      *bool
	MergeableState string
	// Undiverged: the head contains BaseHead.
	Undiverged bool
	// Checks are the head's check runs and statuses; RequiredChecks the
	// base branch protection's required status check contexts.
	Checks         []Check
	RequiredChecks []string
	// OwnChecks is the prefix of atoll's own check names ("atoll/").
	OwnChecks string
	// Fork: the head lives in a fork (HeadRepo names it).
	Fork     bool
	HeadRepo string
}

// Check is one check run (or status) on the head.
type Check struct {
	Name    string
	Passing bool // completed with success, neutral or skipped
}

// ReviewerRule is a configured reviewer rule (Count approvals from
// members of Teams when a changed file matches Paths; empty Paths:
// always) with where it comes from. Origin says so for the refusal:
// "server" (the server configuration), "file" (the top level of File) or
// "project" (project Project of File).
type ReviewerRule struct {
	config.ReviewerRule
	Origin  string
	File    string
	Project string
}

// OwnedFiles are the changed files one CODEOWNERS rule decides, with that
// rule's owners (logins, "org/team" or e-mail addresses).
type OwnedFiles struct {
	Pattern string
	Owners  []string
	File    string
	Line    int
	Files   []string
}

// Policy is one policy set's result on the plan, with the owners whose
// approval counts now.
type Policy struct {
	Set       string
	Failed    bool
	Advisory  bool
	Err       string
	Deny      []string
	DenyMore  int // deny messages not kept (policy keeps the first 100)
	Owners    []string
	Need      int
	Approvers []string
}

// Remediation is what a drift remediation needs: a plan shown on the
// issue, made at the default branch head, and people's sign-off.
type Remediation struct {
	// PlanShown: a plan of the project was made by `atoll plan` on the
	// issue and is still stored. PlanHead is the commit it planned; Head
	// the default branch's head now.
	PlanShown bool
	PlanHead  string
	Head      string
	// Applier is who commented `atoll apply`; ApplierPermitted whether they
	// hold the apply permission; ApplierAlone whether they belong to a team
	// the server lets remediate alone.
	Applier          string
	ApplierPermitted bool
	ApplierAlone     bool
	// Approvers approved this plan (`atoll approve`) and hold the apply
	// permission.
	Approvers []string
	// AutoAllowed: the server turns auto_remediate on for this repository.
	AutoAllowed bool
}

// Input is everything Decide reads. Fields a path does not use stay zero.
type Input struct {
	Path    Path
	Project string // the project's name on the base branch, for reasons
	// Rules are the project's rules from the base branch (BaseRules).
	Rules Rules
	Plan  *Plan
	PR    *PR
	// Reviews are the latest counting reviews of the pull request.
	Reviews []Review
	// Approvals is how many approving reviews `approved` needs;
	// DismissStale counts only approvals of the planned head.
	Approvals    int
	DismissStale bool
	// Members are team memberships: "org/team" -> lower-case login -> member.
	Members      map[string]map[string]bool
	ChangedFiles []string
	// Match reports whether a glob matches a path (discovery's syntax).
	Match func(glob, path string) bool
	// CodeOwners are the changed files grouped by the base branch's
	// CODEOWNERS rule; CodeOwnersErr a failure to read it.
	CodeOwners    []OwnedFiles
	CodeOwnersOn  bool
	CodeOwnersErr string
	Policies      []Policy
	Remediation   *Remediation
	// PendingDeps are the projects of the project's depends_on still to be
	// applied before it (not applied, and not earlier in this apply).
	PendingDeps []string
	// AllowForks is the server's allow_fork_prs: without it nothing of a
	// fork's pull request is applied, on any path.
	AllowForks bool
}

// Decision is Decide's answer: every unmet requirement, and a Clearance
// when there is none.
type Decision struct {
	Reasons   []Reason
	clearance Clearance
}

// Clearance returns the clearance to apply and true, or false when a
// requirement is unmet.
func (d Decision) Clearance() (Clearance, bool) { return d.clearance, d.clearance.valid }

// Clearance lets one apply of one project start on one path. Only Decide
// makes a valid one; the zero value is refused.
type Clearance struct {
	valid   bool
	path    Path
	project string
}

// Valid reports whether the clearance came from a decision with nothing
// unmet.
func (c Clearance) Valid() bool { return c.valid }

// Path is the apply path the clearance was given for.
func (c Clearance) Path() Path { return c.path }

// Project is the project the clearance was given for.
func (c Clearance) Project() string { return c.project }

// riskyArgs are the plan arguments that make a plan different from what a
// reviewer of the code saw: such a plan needs approvals given after it.
var riskyArgs = []string{"-destroy", "-target", "-replace", "-var", "-var-file"}

// RiskyArgs returns the arguments among args that need a fresh approval.
func RiskyArgs(args []string) []string {
	var out []string
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		name = "-" + strings.TrimLeft(name, "-")
		if slices.Contains(riskyArgs, name) {
			out = append(out, a)
		}
	}
	return out
}

// Decide checks every requirement of in.Path and returns each unmet one.
// The order is fixed: plan, remediation, requirements in config order,
// reviewers, code owners, policies. It never fails: a fact that could not
// be gathered is given to it as a failing fact.
func Decide(in Input) Decision {
	var rs []Reason
	add := func(r Reason) {
		r.Project = in.Project
		rs = append(rs, r)
	}
	if in.PR != nil && in.PR.Fork && !in.AllowForks {
		add(Reason{Code: CodeFork, HeadRepo: in.PR.HeadRepo})
	}
	if p := in.Plan; p != nil {
		switch {
		case in.PR != nil && p.HeadSHA != in.PR.HeadSHA:
			add(Reason{Code: CodePlanStale, PlannedSHA: p.HeadSHA, HeadSHA: in.PR.HeadSHA})
		case in.PR != nil && in.PR.CheckBase && p.BaseSHA != in.PR.BaseHead:
			add(Reason{Code: CodeBaseMoved, BaseRef: in.PR.BaseRef, PlannedSHA: p.BaseSHA, HeadSHA: in.PR.BaseHead})
		}
		if !p.FileMatches {
			add(Reason{Code: CodePlanFile})
		}
	}
	if rem := in.Remediation; rem != nil {
		for _, r := range remediationReasons(in.Path, rem) {
			add(r)
		}
	}
	approvers := in.approvers()
	var risky []string
	if in.Plan != nil {
		risky = RiskyArgs(in.Plan.ExtraArgs)
	}
	reqs := in.Rules.Requirements
	if len(risky) > 0 && !slices.Contains(reqs, ReqApproved) && in.PR != nil {
		// A plan made with -destroy and the like needs an approval of its
		// own, whatever the repository relaxed.
		reqs = append([]string{ReqApproved}, reqs...)
	}
	for _, req := range reqs {
		switch req {
		case ReqApproved:
			if in.PR == nil {
				continue
			}
			need := max(in.Approvals, 1)
			if len(approvers) < need {
				r := Reason{Code: CodeApproved, Have: len(approvers), Need: need, Stale: in.DismissStale}
				if len(risky) > 0 {
					r.Args, r.PlannedAt = risky, in.Plan.Created
				}
				add(r)
			}
		case ReqMergeable:
			if in.PR != nil && !in.PR.Merged {
				if r, bad := mergeable(in.PR); bad {
					add(r)
				}
			}
		case ReqUndiverged:
			if in.PR != nil && !in.PR.Merged && !in.PR.Undiverged {
				add(Reason{Code: CodeUndiverged, BaseRef: in.PR.BaseRef, HeadSHA: in.PR.BaseHead})
			}
		}
	}
	if in.PR != nil {
		for _, rule := range in.Rules.Reviewers {
			if len(rule.Paths) > 0 && !in.anyMatch(rule.Paths) {
				continue
			}
			need := max(rule.Count, 1)
			got := 0
			for _, u := range approvers {
				if in.memberOfAny(u, rule.Teams) {
					got++
				}
			}
			if got < need {
				add(Reason{Code: CodeReviewers, Have: got, Need: need, Teams: rule.Teams, Paths: rule.Paths, Origin: rule.Origin, File: rule.File, OriginProject: rule.Project})
			}
		}
		switch {
		case !in.CodeOwnersOn:
		case in.CodeOwnersErr != "":
			add(Reason{Code: CodeCodeOwnersUnreadable, BaseRef: in.PR.BaseRef, Err: in.CodeOwnersErr})
		default:
			for _, o := range in.CodeOwners {
				if len(o.Owners) == 0 || in.ownerApproved(approvers, o.Owners) {
					continue
				}
				files, more := o.Files, 0
				if len(files) > 5 {
					files, more = files[:5], len(files)-5
				}
				add(Reason{Code: CodeCodeOwners, Pattern: o.Pattern, Owners: o.Owners, File: o.File, Line: o.Line, Files: files, More: more})
			}
		}
	}
	for _, dep := range in.PendingDeps {
		add(Reason{Code: CodeDependsOn, Set: dep})
	}
	for _, p := range in.Policies {
		if !p.Failed || p.Advisory {
			continue
		}
		if p.Err != "" {
			add(Reason{Code: CodePolicyError, Set: p.Set, Err: p.Err})
			continue
		}
		need := max(p.Need, 1)
		if len(p.Approvers) < need {
			add(Reason{Code: CodePolicy, Set: p.Set, Deny: p.Deny, More: p.DenyMore, Have: len(p.Approvers), Need: need, Owners: p.Owners})
		}
	}
	d := Decision{Reasons: rs}
	if len(rs) == 0 {
		d.clearance = Clearance{valid: true, path: in.Path, project: in.Project}
	}
	return d
}

// approvers are the users whose latest review approves and counts: not the
// author, with write permission, of the planned head when stale approvals
// are dismissed, and submitted after the plan when it was made with
// arguments that change what is applied.
func (in Input) approvers() []string {
	if in.PR == nil {
		return nil
	}
	head := in.PR.HeadSHA
	var risky bool
	var made time.Time
	if in.Plan != nil {
		head = in.Plan.HeadSHA
		// GitHub's review times are whole seconds: a review in the plan's
		// own second may predate it, so it does not count.
		risky, made = len(RiskyArgs(in.Plan.ExtraArgs)) > 0, in.Plan.Created.Truncate(time.Second)
	}
	var out []string
	for _, rv := range in.Reviews {
		switch {
		case !rv.Approved, strings.EqualFold(rv.User, in.PR.Author), !atLeast(rv.Permission, "write"):
		case in.DismissStale && rv.CommitID != head:
		case risky && !rv.SubmittedAt.After(made):
		default:
			out = append(out, rv.User)
		}
	}
	return out
}

func (in Input) anyMatch(globs []string) bool {
	for _, f := range in.ChangedFiles {
		for _, g := range globs {
			if in.Match != nil && in.Match(g, f) {
				return true
			}
		}
	}
	return false
}

func (in Input) memberOfAny(user string, teams []string) bool {
	for _, t := range teams {
		if in.Members[strings.ToLower(t)][strings.ToLower(user)] {
			return true
		}
	}
	return false
}

func (in Input) ownerApproved(approvers, owners []string) bool {
	for _, u := range approvers {
		for _, o := range owners {
			switch {
			case strings.Contains(o, "@"): // an e-mail address never matches a reviewer
			case strings.Contains(o, "/"):
				if in.memberOfAny(u, []string{o}) {
					return true
				}
			case strings.EqualFold(o, u):
				return true
			}
		}
	}
	return false
}

// mergeable holds only when GitHub says clean, or blocked or unstable
// with atoll's own checks as the only ones in the way: a blocked pull
// request needs a failing required check of atoll's to explain the block,
// and no other required check failing.
func mergeable(pr *PR) (Reason, bool) {
	if pr.Mergeable != nil && !*pr.Mergeable {
		return Reason{Code: CodeMergeable, Why: "conflicts", BaseRef: pr.BaseRef}, true
	}
	own := func(name string) bool { return pr.OwnChecks != "" && strings.HasPrefix(name, pr.OwnChecks) }
	switch pr.MergeableState {
	case "clean":
		return Reason{}, false
	case "blocked":
		var others []string
		ownBlocks := false
		for _, name := range pr.RequiredChecks {
			if passing(pr.Checks, name) {
				continue
			}
			if own(name) {
				ownBlocks = true
			} else {
				others = append(others, name)
			}
		}
		switch {
		case len(others) > 0:
			sort.Strings(others)
			return Reason{Code: CodeMergeable, Why: "required_checks", Checks: others}, true
		case !ownBlocks:
			return Reason{Code: CodeMergeable, Why: "blocked"}, true
		}
		return Reason{}, false
	case "unstable":
		var failing []string
		for _, c := range pr.Checks {
			if !c.Passing && !own(c.Name) {
				failing = append(failing, c.Name)
			}
		}
		if len(failing) > 0 {
			sort.Strings(failing)
			return Reason{Code: CodeMergeable, Why: "checks", Checks: dedupe(failing)}, true
		}
		return Reason{}, false
	case "dirty":
		return Reason{Code: CodeMergeable, Why: "conflicts", BaseRef: pr.BaseRef}, true
	case "draft":
		return Reason{Code: CodeMergeable, Why: "draft"}, true
	case "behind":
		return Reason{Code: CodeMergeable, Why: "behind", BaseRef: pr.BaseRef}, true
	}
	return Reason{Code: CodeMergeable, Why: "unknown", State: pr.MergeableState}, true
}

// passing reports whether the latest check named name passes; a check not
// reported yet does not.
func passing(checks []Check, name string) bool {
	found, ok := false, true
	for _, c := range checks {
		if c.Name == name {
			found, ok = true, c.Passing
		}
	}
	return found && ok
}

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

func remediationReasons(path Path, rem *Remediation) []Reason {
	var rs []Reason
	if path == PathAutoRemediate {
		if !rem.AutoAllowed {
			rs = append(rs, Reason{Code: CodeAutoRemediateOff})
		}
		return rs
	}
	switch {
	case !rem.PlanShown:
		rs = append(rs, Reason{Code: CodeRemediationPlan})
	case rem.PlanHead != rem.Head:
		rs = append(rs, Reason{Code: CodeRemediationPlan, PlannedSHA: rem.PlanHead, HeadSHA: rem.Head})
	}
	if !rem.ApplierPermitted {
		rs = append(rs, Reason{Code: CodeRemediationApplier, User: rem.Applier})
	}
	if rem.ApplierAlone {
		return rs
	}
	for _, u := range rem.Approvers {
		if !strings.EqualFold(u, rem.Applier) {
			return rs
		}
	}
	return append(rs, Reason{Code: CodeRemediationApproval, User: rem.Applier})
}
