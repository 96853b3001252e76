package facts_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/facts"
	"github.com/atollhq/atoll/vcs"
)

// host lists the first files of a pull request only, as GitHub does past
// 3000 files, and answers team membership from teams.
type host struct {
	listed   []string
	complete bool
	teams    map[string][]string // "org/slug" -> members
	errTeam  string              // asking about this team fails
}

func (h host) ListPullRequestFiles(context.Context, vcs.Repo, int) ([]string, bool, error) {
	return h.listed, h.complete, nil
}

func (h host) IsTeamMember(_ context.Context, _ vcs.Repo, org, slug, user string) (bool, error) {
	if org+"/"+slug == h.errTeam {
		return false, errors.New("team lookup failed")
	}
	return slices.Contains(h.teams[org+"/"+slug], user), nil
}

// git diffs base and head into files.
type git struct{ files []string }

func (g git) ChangedFiles(context.Context, vcs.Repo, string, string) ([]string, error) {
	return g.files, nil
}

func TestChangedFilesFallsBackToGit(t *testing.T) {
	all := []string{"a/main.tf", "b/main.tf", "c/main.tf"}
	pr := vcs.PullRequest{Number: 7, BaseSHA: "base", HeadSHA: "head"}
	tests := []struct {
		name string
		host host
		want []string
	}{
		{"complete list from the host", host{listed: all[:2], complete: true}, all[:2]},
		{"truncated list: git's diff", host{listed: all[:1]}, all},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := facts.ChangedFiles(context.Background(), tc.host, git{files: all}, pr)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("changedFiles = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestMemberOfAny(t *testing.T) {
	host := host{teams: map[string][]string{"acme/ops": {"alice"}, "acme/dev": {"bob"}}, errTeam: "acme/broken"}
	tests := []struct {
		name    string
		user    string
		teams   []string
		want    bool
		wantErr bool
	}{
		{"member of the second team", "bob", []string{"acme/ops", "acme/dev"}, true, false},
		{"member of none", "carol", []string{"acme/ops", "acme/dev"}, false, false},
		{"a user entry is no team", "alice", []string{"alice"}, false, false},
		{"a failing team does not hide a later yes", "alice", []string{"acme/broken", "acme/ops"}, true, false},
		{"a failing team and no yes: the error", "carol", []string{"acme/broken", "acme/ops"}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := facts.MemberOfAny(context.Background(), host, vcs.Repo{Owner: "acme", Name: "infra"}, tc.user, tc.teams)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("memberOfAny = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestLatestReviews(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reviews := []vcs.Review{
		{User: "bob", State: vcs.ReviewApproved, SubmittedAt: at},
		{User: "carol", State: vcs.ReviewChangesRequested, SubmittedAt: at.Add(time.Minute)},
		{User: "bob", State: vcs.ReviewCommented, SubmittedAt: at.Add(2 * time.Minute)},
		{User: "carol", State: vcs.ReviewApproved, SubmittedAt: at.Add(3 * time.Minute)},
		{User: "dave", State: vcs.ReviewApproved, SubmittedAt: at.Add(4 * time.Minute)},
		{User: "dave", State: vcs.ReviewDismissed, SubmittedAt: at.Add(5 * time.Minute)},
	}
	got := map[string]string{}
	for _, r := range facts.LatestReviews(reviews) {
		got[r.User] = r.State
	}
	want := map[string]string{"bob": vcs.ReviewApproved, "carol": vcs.ReviewApproved, "dave": vcs.ReviewDismissed}
	for u, s := range want {
		if got[u] != s {
			t.Errorf("%s: got %q, want %q (a comment must not replace an approval; a dismissal must)", u, got[u], s)
		}
	}
}
