package records

import (
	"context"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/vcs"
)

// MaxHeads bounds a PR's head history (PRState.Heads): the oldest go.
const MaxHeads = 100

// The pull request's state moves only through the functions below.

// PRStateOf is what the runner remembers of pull request number of repo;
// the zero PRState when nothing.
func (r Records) PRStateOf(ctx context.Context, repo string, number int) (PRState, error) {
	var st PRState
	_, err := r.Get(ctx, PRs, PRKey(repo, number), &st)
	return st, err
}

// NoteHead appends head sha, dated at, to the PR's head history when it
// differs from the last head recorded, in one transaction, and returns
// the last entry and whether this call added it. A PR seen for the first
// time is recorded with its author.
func (r Records) NoteHead(ctx context.Context, repo string, number int, author, sha string, at time.Time) (last HeadSeen, added bool, err error) {
	err = Update(ctx, r, PRs, PRKey(repo, number), func(st *PRState, exists bool) error {
		if n := len(st.Heads); n > 0 && st.Heads[n-1].SHA == sha {
			last = st.Heads[n-1]
			return ErrAbort
		}
		if !exists {
			st.Repo, st.Number, st.Author = repo, number, author
		}
		last, added = HeadSeen{SHA: sha, At: at.UTC()}, true
		st.Heads = append(st.Heads, last)
		if len(st.Heads) > MaxHeads {
			st.Heads = st.Heads[len(st.Heads)-MaxHeads:]
		}
		return nil
	})
	return last, added, err
}

// HeadUpdate is the batch update (Store.UpdateRecords) that records pr's
// head and the projects planned for it as the PR's latest, and the PR
// open.
func HeadUpdate(pr vcs.PullRequest, projects []Project) locks.RecordUpdate {
	return TypedUpdate(PRs, PRKey(pr.Repo.FullName(), pr.Number), func(st *PRState, _ bool) error {
		st.Repo, st.Number, st.Author = pr.Repo.FullName(), pr.Number, pr.Author
		st.HeadSHA = pr.HeadSHA
		st.Projects = projects
		st.Closed = false
		return nil
	})
}

// MarkClosed records that the PR was seen closed and forgets its planned
// projects, so that a reopened PR is planned again. A PR never recorded
// stays unrecorded.
func (r Records) MarkClosed(ctx context.Context, repo string, number int) error {
	return Update(ctx, r, PRs, PRKey(repo, number), func(st *PRState, exists bool) error {
		if !exists {
			return ErrAbort
		}
		st.Closed, st.Projects = true, nil
		return nil
	})
}

// AddPlanComments remembers the node ids of a run's plan comments on the
// PR, so that a later head can minimize them.
func (r Records) AddPlanComments(ctx context.Context, repo string, number int, nodeIDs []string) error {
	return Update(ctx, r, PRs, PRKey(repo, number), func(st *PRState, _ bool) error {
		st.PlanComments = append(st.PlanComments, nodeIDs...)
		return nil
	})
}

// ForgetPlanComments forgets the PR's plan comments (once minimized).
func (r Records) ForgetPlanComments(ctx context.Context, repo string, number int) error {
	return Update(ctx, r, PRs, PRKey(repo, number), func(st *PRState, _ bool) error {
		st.PlanComments = nil
		return nil
	})
}
