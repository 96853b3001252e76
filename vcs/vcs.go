// Package vcs holds the code host's vocabulary as atoll's other rooms see
// it: repositories, pull requests, comments, reviews, check runs, issues and
// the events a code host sends. It is neutral: no GitHub JSON, no HTTP.
// The GitHub implementation lives in vcs/github.
package vcs

import (
	"errors"
	"time"
)

// ErrNotFound is returned (wrapped) by a code host when the thing asked for
// does not exist or is not visible to the caller.
var ErrNotFound = errors.New("not found")

// ErrCommitMissing is returned (wrapped) by a repository mirror asked to
// check out a commit it does not hold: fetch it first.
var ErrCommitMissing = errors.New("commit not in mirror")

// Repo names a repository. InstallationID, when non-zero, is the GitHub App
// installation that serves it; a client that needs it and finds it zero
// looks it up.
type Repo struct {
	Owner          string `json:"owner"`
	Name           string `json:"name"`
	DefaultBranch  string `json:"default_branch,omitempty"`
	Private        bool   `json:"private,omitempty"`
	InstallationID int64  `json:"installation_id,omitempty"`
}

// FullName is "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// User is an account on the code host.
type User struct {
	Login string `json:"login"`
	Bot   bool   `json:"bot,omitempty"`
}

// PullRequest is what atoll needs to know of a pull request.
type PullRequest struct {
	Repo    Repo   `json:"repo"`
	Number  int    `json:"number"`
	Title   string `json:"title"`
	Author  string `json:"author"`
	State   string `json:"state"` // "open" or "closed"
	Merged  bool   `json:"merged"`
	Draft   bool   `json:"draft"`
	HTMLURL string `json:"html_url"`
	// HeadSHA and HeadRef are the PR's branch; HeadRepo is its repository
	// ("owner/name"), which differs from Repo for a fork.
	HeadSHA  string `json:"head_sha"`
	HeadRef  string `json:"head_ref"`
	HeadRepo string `json:"head_repo"`
	// BaseSHA and BaseRef are the branch the PR merges into.
	BaseSHA string `json:"base_sha"`
	BaseRef string `json:"base_ref"`
	// MergeCommitSHA is the merge commit once merged.
	MergeCommitSHA string `json:"merge_commit_sha,omitempty"`
	// Mergeable is nil while GitHub still computes it.
	Mergeable      *bool     `json:"mergeable,omitempty"`
	MergeableState string    `json:"mergeable_state,omitempty"`
	Labels         []string  `json:"labels,omitempty"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Fork reports whether the PR's head lives in another repository.
func (p PullRequest) Fork() bool {
	return p.HeadRepo != "" && p.HeadRepo != p.Repo.FullName()
}

// Comment is an issue or pull request comment.
type Comment struct {
	ID      int64  `json:"id"`
	NodeID  string `json:"node_id"`
	Body    string `json:"body"`
	Author  User   `json:"author"`
	HTMLURL string `json:"html_url"`
	// CreatedAt is when the comment was written (the code host's clock).
	CreatedAt time.Time `json:"created_at"`
}

// Review states, upper case as the REST API gives them.
const (
	ReviewApproved         = "APPROVED"
	ReviewChangesRequested = "CHANGES_REQUESTED"
	ReviewCommented        = "COMMENTED"
	ReviewDismissed        = "DISMISSED"
)

// Review is one pull request review.
type Review struct {
	ID          int64     `json:"id"`
	User        string    `json:"user"`
	State       string    `json:"state"` // one of the Review* constants
	CommitID    string    `json:"commit_id"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// Check run statuses and conclusions.
const (
	CheckQueued     = "queued"
	CheckInProgress = "in_progress"
	CheckCompleted  = "completed"

	ConclusionSuccess        = "success"
	ConclusionFailure        = "failure"
	ConclusionNeutral        = "neutral"
	ConclusionCancelled      = "cancelled"
	ConclusionSkipped        = "skipped"
	ConclusionActionRequired = "action_required"
)

// CheckRun is a check run on a commit. ID is zero until created.
type CheckRun struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	HeadSHA    string `json:"head_sha"`
	Status     string `json:"status"`
	Conclusion string `json:"conclusion,omitempty"`
	Title      string `json:"title"`
	Summary    string `json:"summary"`
	Text       string `json:"text,omitempty"`
	DetailsURL string `json:"details_url,omitempty"`
}

// Issue is a GitHub issue (not a pull request).
type Issue struct {
	Number  int      `json:"number"`
	Title   string   `json:"title"`
	Body    string   `json:"body"`
	State   string   `json:"state"` // "open" or "closed"
	Labels  []string `json:"labels"`
	HTMLURL string   `json:"html_url"`
}

// IssueUpdate changes an issue; nil fields are left alone. Labels, when
// non-nil, replaces the whole set.
type IssueUpdate struct {
	Title       *string
	Body        *string
	State       *string  // "open" or "closed"
	StateReason *string  // "completed", "not_planned", "reopened"
	Labels      []string // nil: unchanged
}

// Permission is a user's permission on a repository, as GitHub's
// collaborator permission endpoint reports it.
type Permission string

// Permission levels, weakest first.
const (
	PermissionNone     Permission = "none"
	PermissionRead     Permission = "read"
	PermissionTriage   Permission = "triage"
	PermissionWrite    Permission = "write"
	PermissionMaintain Permission = "maintain"
	PermissionAdmin    Permission = "admin"
)

var permissionRank = map[Permission]int{
	PermissionNone: 0, PermissionRead: 1, PermissionTriage: 2,
	PermissionWrite: 3, PermissionMaintain: 4, PermissionAdmin: 5,
}

// AtLeast reports whether p grants at least what min grants. An unknown
// permission grants nothing.
func (p Permission) AtLeast(min Permission) bool {
	r, ok := permissionRank[p]
	if !ok {
		return false
	}
	return r >= permissionRank[min]
}

// ValidPermission reports whether p is one of the known levels.
func ValidPermission(p Permission) bool {
	_, ok := permissionRank[p]
	return ok
}
