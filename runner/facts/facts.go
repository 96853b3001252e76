package facts

import (
	"context"
	"fmt"
	"strings"

	"github.com/atollhq/atoll/vcs"
)

// FileLister lists the files a pull request changes, as the code host
// knows them (Host's method).
type FileLister interface {
	ListPullRequestFiles(ctx context.Context, repo vcs.Repo, number int) ([]string, bool, error)
}

// Differ lists the files two commits Differ in (Git's method).
type Differ interface {
	ChangedFiles(ctx context.Context, repo vcs.Repo, base, head string) ([]string, error)
}

// ChangedFiles lists every file pull request pr changes: the code host's
// list, or, where that list is incomplete (a pull request of more files
// than the host lists), git's diff of the PR's base and head, which needs
// both commits in the mirror.
func ChangedFiles(ctx context.Context, host FileLister, git Differ, pr vcs.PullRequest) ([]string, error) {
	files, complete, err := host.ListPullRequestFiles(ctx, pr.Repo, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("list changed files of #%d: %w", pr.Number, err)
	}
	if complete {
		return files, nil
	}
	if files, err = git.ChangedFiles(ctx, pr.Repo, pr.BaseSHA, pr.HeadSHA); err != nil {
		return nil, fmt.Errorf("changed files of #%d from git: %w", pr.Number, err)
	}
	return files, nil
}

// TeamAsker answers team membership (Host's method).
type TeamAsker interface {
	IsTeamMember(ctx context.Context, repo vcs.Repo, org, teamSlug, user string) (bool, error)
}

// MemberOfAny reports whether user is an active member of one of teams
// ("org/team-slug"; an entry without a slash is no team), asked of the
// code host through repo. It asks team by team until one says yes; when
// none does, it returns false and the first error met, if any.
func MemberOfAny(ctx context.Context, host TeamAsker, repo vcs.Repo, user string, teams []string) (bool, error) {
	var first error
	for _, t := range teams {
		org, slug, ok := strings.Cut(t, "/")
		if !ok {
			continue
		}
		yes, err := host.IsTeamMember(ctx, repo, org, slug, user)
		if err != nil {
			if first == nil {
				first = fmt.Errorf("membership of %s in %s: %w", user, t, err)
			}
			continue
		}
		if yes {
			return true, nil
		}
	}
	return false, first
}

// RepoGetter reads a repository's facts (Host's method).
type RepoGetter interface {
	GetRepo(ctx context.Context, repo vcs.Repo) (vcs.Repo, error)
}

// RepoFacts is repo with the code host's facts (default branch,
// visibility, …) filled in, keeping the installation repo came through.
func RepoFacts(ctx context.Context, host RepoGetter, repo vcs.Repo) (vcs.Repo, error) {
	full, err := host.GetRepo(ctx, repo)
	if err != nil {
		return vcs.Repo{}, err
	}
	full.InstallationID = repo.InstallationID
	return full, nil
}

// LatestReviews keeps each user's latest review that counts: comments do
// not replace an approval or a change request.
func LatestReviews(reviews []vcs.Review) []vcs.Review {
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
