package runner

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/atollhq/atoll/vcs"
)

// bigPRHost lists the first files of a pull request only, as GitHub does
// past 3000 files; the rest of Host is not used.
type bigPRHost struct {
	Host
	listed   []string
	complete bool
	teams    map[string][]string // "org/slug" -> members
	errTeam  string              // asking about this team fails
}

func (h bigPRHost) ListPullRequestFiles(context.Context, vcs.Repo, int) ([]string, bool, error) {
	return h.listed, h.complete, nil
}

func (h bigPRHost) IsTeamMember(_ context.Context, _ vcs.Repo, org, slug, user string) (bool, error) {
	if org+"/"+slug == h.errTeam {
		return false, errors.New("team lookup failed")
	}
	return slices.Contains(h.teams[org+"/"+slug], user), nil
}

// diffGit diffs base and head into files; the rest of Git is not used.
type diffGit struct {
	Git
	files []string
}

func (g diffGit) ChangedFiles(context.Context, vcs.Repo, string, string) ([]string, error) {
	return g.files, nil
}

func TestChangedFilesFallsBackToGit(t *testing.T) {
	all := []string{"a/main.tf", "b/main.tf", "c/main.tf"}
	pr := vcs.PullRequest{Number: 7, BaseSHA: "base", HeadSHA: "head"}
	tests := []struct {
		name string
		host bigPRHost
		want []string
	}{
		{"complete list from the host", bigPRHost{listed: all[:2], complete: true}, all[:2]},
		{"truncated list: git's diff", bigPRHost{listed: all[:1]}, all},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := changedFiles(context.Background(), tc.host, diffGit{files: all}, pr)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("changedFiles = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// A very large pull request: the code host lists only part of its files.
// Policies must see every changed file, as requirements and discovery do.
func TestPolicyInputSeesEveryChangedFileOfALargePR(t *testing.T) {
	all := []string{"a/main.tf", "b/main.tf", "c/main.tf"}
	r := &Runner{host: bigPRHost{listed: all[:1]}, git: diffGit{files: all},
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pr := vcs.PullRequest{Number: 7, BaseSHA: "base", HeadSHA: "head"}
	in := r.policyInput(context.Background(), Job{Number: 7, Project: Project{Name: "a", Dir: "a"}}, pr, []byte(`{}`))
	if !slices.Equal(in.PullRequest.ChangedFiles, all) {
		t.Errorf("policies see changed files %v, want all of %v", in.PullRequest.ChangedFiles, all)
	}
}

func TestMemberOfAny(t *testing.T) {
	host := bigPRHost{teams: map[string][]string{"acme/ops": {"alice"}, "acme/dev": {"bob"}}, errTeam: "acme/broken"}
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
			got, err := memberOfAny(context.Background(), host, vcs.Repo{Owner: "acme", Name: "infra"}, tc.user, tc.teams)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("memberOfAny = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
