package vcs

import "time"

// Event is one webhook the code host sent, parsed. It is one of the *Event
// types of this package.
type Event interface {
	// DeliveryID is the code host's delivery id (X-GitHub-Delivery).
	DeliveryID() string
}

// Meta is what every event carries.
type Meta struct {
	Delivery       string `json:"delivery"`
	InstallationID int64  `json:"installation_id"`
	Sender         User   `json:"sender"`
}

// DeliveryID implements Event.
func (m Meta) DeliveryID() string { return m.Delivery }

// PullRequestEvent is a pull_request webhook. Action is one of opened,
// reopened, synchronize, ready_for_review, closed (others are dropped by
// the parser).
type PullRequestEvent struct {
	Meta
	Action string      `json:"action"`
	PR     PullRequest `json:"pull_request"`
}

// CommentEvent is an issue_comment webhook with action created. IsPR tells
// a pull request's conversation from a plain issue's.
type CommentEvent struct {
	Meta
	Action      string   `json:"action"`
	Repo        Repo     `json:"repo"`
	IssueNumber int      `json:"issue_number"`
	IsPR        bool     `json:"is_pr"`
	IssueLabels []string `json:"issue_labels,omitempty"`
	Comment     Comment  `json:"comment"`
}

// ReviewEvent is a pull_request_review webhook (submitted or dismissed).
type ReviewEvent struct {
	Meta
	Action string      `json:"action"`
	PR     PullRequest `json:"pull_request"`
	Review Review      `json:"review"`
}

// PushEvent is a push webhook.
type PushEvent struct {
	Meta
	Repo   Repo      `json:"repo"`
	Ref    string    `json:"ref"` // "refs/heads/main"
	Before string    `json:"before"`
	After  string    `json:"after"`
	At     time.Time `json:"at"`
}

// InstallationEvent is an installation or installation_repositories
// webhook: the App was installed, removed, or its repositories changed.
type InstallationEvent struct {
	Meta
	Action  string `json:"action"`
	Added   []Repo `json:"added,omitempty"`
	Removed []Repo `json:"removed,omitempty"`
}

// PingEvent is GitHub's ping when a hook is created.
type PingEvent struct {
	Meta
	Zen string `json:"zen"`
}
