package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/atollhq/atoll/vcs"
)

// signaturePrefix starts X-Hub-Signature-256.
const signaturePrefix = "sha256="

// ValidateSignature checks an X-Hub-Signature-256 header ("sha256=" and the
// hex HMAC-SHA256 of the raw body keyed with the webhook secret) in
// constant time. A missing, garbled or wrong signature, or an empty
// secret, gives an error wrapping ErrBadSignature.
func ValidateSignature(secret []byte, body []byte, signatureHeader string) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no webhook secret configured", ErrBadSignature)
	}
	if signatureHeader == "" {
		return fmt.Errorf("%w: missing X-Hub-Signature-256", ErrBadSignature)
	}
	hexSig, ok := strings.CutPrefix(signatureHeader, signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: X-Hub-Signature-256 does not start with %q", ErrBadSignature, signaturePrefix)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: X-Hub-Signature-256 is not a hex SHA-256", ErrBadSignature)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%w: signature does not match the body", ErrBadSignature)
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value for body: what GitHub sends.
// Tests and the emulator use it.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// handled maps each event atoll handles to the actions it keeps; nil keeps
// every action (events without one).
var handled = map[string]map[string]bool{
	"pull_request":              set("opened", "reopened", "synchronize", "ready_for_review", "closed"),
	"issue_comment":             set("created"),
	"pull_request_review":       set("submitted", "dismissed"),
	"push":                      nil,
	"installation":              set("created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"),
	"installation_repositories": set("added", "removed"),
	"ping":                      nil,
}

func set(s ...string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}

// IsKnownEvent reports whether atoll handles the webhook event (the
// X-GitHub-Event header).
func IsKnownEvent(event string) bool {
	_, ok := handled[event]
	return ok
}

// keeps reports whether action of event is one atoll acts on.
func keeps(event, action string) bool {
	actions := handled[event]
	return actions == nil || actions[action]
}

// ParseWebhook turns a webhook body into one of the vcs event types.
// It returns ErrUnknownEvent (wrapped) for an event atoll does not handle,
// (nil, nil) for a handled event whose action atoll ignores (for example
// pull_request "labeled" or issue_comment "edited"), and an error for a body
// that is not JSON or lacks what the event must carry.
func ParseWebhook(event, deliveryID string, body []byte) (vcs.Event, error) {
	if !IsKnownEvent(event) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEvent, event)
	}
	payload, err := gh.ParseWebHook(event, body)
	if err != nil {
		return nil, fmt.Errorf("parse %s webhook %s: %w", event, deliveryID, err)
	}
	if payload == nil { // the body was JSON null
		return nil, fmt.Errorf("parse %s webhook %s: %w: the body is null, not an object", event, deliveryID, errMalformed)
	}
	var ev vcs.Event
	switch p := payload.(type) {
	case *gh.PullRequestEvent:
		ev, err = pullRequestEvent(deliveryID, p)
	case *gh.IssueCommentEvent:
		ev, err = commentEvent(deliveryID, p)
	case *gh.PullRequestReviewEvent:
		ev, err = reviewEvent(deliveryID, p)
	case *gh.PushEvent:
		ev, err = pushEvent(deliveryID, p)
	case *gh.InstallationEvent:
		ev, err = installationEvent(deliveryID, p)
	case *gh.InstallationRepositoriesEvent:
		ev, err = installationReposEvent(deliveryID, p)
	case *gh.PingEvent:
		ev = &vcs.PingEvent{Meta: meta(deliveryID, p.GetInstallation(), p.GetSender()), Zen: p.GetZen()}
	default:
		return nil, fmt.Errorf("%w: %q parsed as %T", ErrUnknownEvent, event, payload)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s webhook %s: %w", event, deliveryID, err)
	}
	return ev, nil
}

var errMalformed = errors.New("malformed payload")

func meta(deliveryID string, inst *gh.Installation, sender *gh.User) vcs.Meta {
	return vcs.Meta{Delivery: deliveryID, InstallationID: inst.GetID(), Sender: toUser(sender)}
}

// webhookRepo converts a payload's repository and requires owner and name.
func webhookRepo(r *gh.Repository, inst *gh.Installation) (vcs.Repo, error) {
	repo := toRepo(r)
	if repo.Owner == "" || repo.Name == "" {
		return vcs.Repo{}, fmt.Errorf("%w: no repository", errMalformed)
	}
	repo.InstallationID = inst.GetID()
	return repo, nil
}

func pullRequestEvent(id string, p *gh.PullRequestEvent) (vcs.Event, error) {
	if !keeps("pull_request", p.GetAction()) {
		return nil, nil
	}
	repo, err := webhookRepo(p.GetRepo(), p.GetInstallation())
	if err != nil {
		return nil, err
	}
	if p.PullRequest == nil || p.GetPullRequest().GetNumber() == 0 {
		return nil, fmt.Errorf("%w: no pull_request", errMalformed)
	}
	return &vcs.PullRequestEvent{
		Meta:   meta(id, p.GetInstallation(), p.GetSender()),
		Action: p.GetAction(),
		PR:     toPullRequest(repo, p.GetPullRequest()),
	}, nil
}

func commentEvent(id string, p *gh.IssueCommentEvent) (vcs.Event, error) {
	if !keeps("issue_comment", p.GetAction()) {
		return nil, nil
	}
	repo, err := webhookRepo(p.GetRepo(), p.GetInstallation())
	if err != nil {
		return nil, err
	}
	if p.Issue == nil || p.Comment == nil || p.GetIssue().GetNumber() == 0 {
		return nil, fmt.Errorf("%w: no issue or comment", errMalformed)
	}
	return &vcs.CommentEvent{
		Meta:        meta(id, p.GetInstallation(), p.GetSender()),
		Action:      p.GetAction(),
		Repo:        repo,
		IssueNumber: p.GetIssue().GetNumber(),
		IsPR:        p.GetIssue().IsPullRequest(),
		IssueLabels: labelNames(p.GetIssue().Labels),
		Comment:     toComment(p.GetComment()),
	}, nil
}

func reviewEvent(id string, p *gh.PullRequestReviewEvent) (vcs.Event, error) {
	if !keeps("pull_request_review", p.GetAction()) {
		return nil, nil
	}
	repo, err := webhookRepo(p.GetRepo(), p.GetInstallation())
	if err != nil {
		return nil, err
	}
	if p.PullRequest == nil || p.Review == nil || p.GetPullRequest().GetNumber() == 0 {
		return nil, fmt.Errorf("%w: no pull_request or review", errMalformed)
	}
	return &vcs.ReviewEvent{
		Meta:   meta(id, p.GetInstallation(), p.GetSender()),
		Action: p.GetAction(),
		PR:     toPullRequest(repo, p.GetPullRequest()),
		Review: toReview(p.GetReview()), // state upper-cased: webhooks send lower case
	}, nil
}

func pushEvent(id string, p *gh.PushEvent) (vcs.Event, error) {
	repo := toPushRepo(p.GetRepo())
	if repo.Owner == "" || repo.Name == "" {
		return nil, fmt.Errorf("%w: no repository", errMalformed)
	}
	if p.GetRef() == "" {
		return nil, fmt.Errorf("%w: no ref", errMalformed)
	}
	repo.InstallationID = p.GetInstallation().GetID()
	at := p.GetHeadCommit().GetTimestamp().Time
	if at.IsZero() {
		at = p.GetRepo().GetPushedAt().Time
	}
	return &vcs.PushEvent{
		Meta:   meta(id, p.GetInstallation(), p.GetSender()),
		Repo:   repo,
		Ref:    p.GetRef(),
		Before: p.GetBefore(),
		After:  p.GetAfter(),
		At:     at.UTC().Truncate(time.Second),
	}, nil
}

func installationEvent(id string, p *gh.InstallationEvent) (vcs.Event, error) {
	if !keeps("installation", p.GetAction()) {
		return nil, nil
	}
	if p.GetInstallation().GetID() == 0 {
		return nil, fmt.Errorf("%w: no installation", errMalformed)
	}
	ev := &vcs.InstallationEvent{Meta: meta(id, p.GetInstallation(), p.GetSender()), Action: p.GetAction()}
	repos := installationRepos(p.Repositories, p.GetInstallation().GetID())
	switch p.GetAction() {
	case "created":
		ev.Added = repos
	case "deleted":
		ev.Removed = repos
	}
	return ev, nil
}

func installationReposEvent(id string, p *gh.InstallationRepositoriesEvent) (vcs.Event, error) {
	if !keeps("installation_repositories", p.GetAction()) {
		return nil, nil
	}
	if p.GetInstallation().GetID() == 0 {
		return nil, fmt.Errorf("%w: no installation", errMalformed)
	}
	return &vcs.InstallationEvent{
		Meta:    meta(id, p.GetInstallation(), p.GetSender()),
		Action:  p.GetAction(),
		Added:   installationRepos(p.RepositoriesAdded, p.GetInstallation().GetID()),
		Removed: installationRepos(p.RepositoriesRemoved, p.GetInstallation().GetID()),
	}, nil
}

func installationRepos(rs []*gh.Repository, installationID int64) []vcs.Repo {
	var out []vcs.Repo
	for _, r := range rs {
		repo := toRepo(r)
		if repo.Owner == "" || repo.Name == "" {
			continue
		}
		repo.InstallationID = installationID
		out = append(out, repo)
	}
	return out
}
