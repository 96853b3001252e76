package runner

import (
	"context"
	"fmt"
	"strings"

	"github.com/atollhq/atoll/vcs"
)

// Each fact below is computed by one function, so that commands,
// policies, requirements and code owners cannot come to disagree on it.

// fileLister lists the files a pull request changes, as the code host
// knows them (Host's method).
type fileLister interface {
	ListPullRequestFiles(ctx context.Context, repo vcs.Repo, number int) ([]string, bool, error)
}

// differ lists the files two commits differ in (Git's method).
type differ interface {
	ChangedFiles(ctx context.Context, repo vcs.Repo, base, head string) ([]string, error)
}

// changedFiles lists every file pull request pr changes: the code host's
// list, or, where that list is incomplete (a pull request of more files
// than the host lists), git's diff of the PR's base and head, which needs
// both commits in the mirror.
func changedFiles(ctx context.Context, host fileLister, git differ, pr vcs.PullRequest) ([]string, error) {
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

// teamAsker answers team membership (Host's method).
type teamAsker interface {
	IsTeamMember(ctx context.Context, repo vcs.Repo, org, teamSlug, user string) (bool, error)
}

// memberOfAny reports whether user is an active member of one of teams
// ("org/team-slug"; an entry without a slash is no team), asked of the
// code host through repo. It asks team by team until one says yes; when
// none does, it returns false and the first error met, if any.
func memberOfAny(ctx context.Context, host teamAsker, repo vcs.Repo, user string, teams []string) (bool, error) {
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

// repoGetter reads a repository's facts (Host's method).
type repoGetter interface {
	GetRepo(ctx context.Context, repo vcs.Repo) (vcs.Repo, error)
}

// repoFacts is repo with the code host's facts (default branch,
// visibility, …) filled in, keeping the installation repo came through.
func repoFacts(ctx context.Context, host repoGetter, repo vcs.Repo) (vcs.Repo, error) {
	full, err := host.GetRepo(ctx, repo)
	if err != nil {
		return vcs.Repo{}, err
	}
	full.InstallationID = repo.InstallationID
	return full, nil
}
