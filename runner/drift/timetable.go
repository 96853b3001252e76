package drift

import (
	"sort"
	"strings"
	"time"

	"github.com/atollhq/atoll/runner/config"
	"github.com/robfig/cron/v3"
)

// Timetable is the drift scheduler's clock-free memory: per repository, its
// schedule, the scheduled time of its last check, and when the next one
// fires (its due time plus a random jitter). Time is passed in, so tests
// drive it with any clock. It is not safe for concurrent use.
type Timetable struct {
	jitter time.Duration
	rand   func(n time.Duration) time.Duration // in [0, n)
	repos  map[string]*entry
}

type entry struct {
	spec   string
	sched  cron.Schedule
	last   time.Time // scheduled time of the last check started, or when first seen
	due    time.Time // the schedule's next time after last; zero: never
	fireAt time.Time // due plus jitter
}

// Fire is a check that fell due: the repository ("owner/name") and the
// schedule's time it is for.
type Fire struct {
	Repo string
	Due  time.Time
}

// NewTimetable returns an empty timetable that delays each check by
// rand(jitter), rand returning a duration in [0, n); jitter 0: none.
func NewTimetable(jitter time.Duration, rand func(time.Duration) time.Duration) *Timetable {
	return &Timetable{jitter: jitter, rand: rand, repos: map[string]*entry{}}
}

// Sync sets the repositories and their schedules (repo -> cron spec; an
// empty spec or an absent repo is not checked) at now. A repository seen
// for the first time counts from its remembered last check (so a check
// missed while atoll was down runs at once) or from now; a changed
// schedule counts from the same last check. It returns the schedules that
// do not parse, by repository; those repositories are not checked.
func (t *Timetable) Sync(now time.Time, specs map[string]string, memory map[string]time.Time) map[string]error {
	var errs map[string]error
	for repo := range t.repos {
		if specs[repo] == "" {
			delete(t.repos, repo)
		}
	}
	for repo, spec := range specs {
		if spec == "" {
			continue
		}
		e := t.repos[repo]
		if e != nil && e.spec == spec {
			continue
		}
		sched, err := config.ParseSchedule(spec)
		if err != nil {
			if errs == nil {
				errs = map[string]error{}
			}
			errs[repo] = err
			delete(t.repos, repo)
			continue
		}
		last := now
		if e != nil {
			last = e.last
		} else if m, ok := memory[repo]; ok && !m.IsZero() && m.Before(now) {
			last = m
		}
		e = &entry{spec: spec, sched: sched, last: last}
		t.plan(e)
		t.repos[repo] = e
	}
	return errs
}

// plan computes an entry's next due time from its last check, and when it
// fires.
func (t *Timetable) plan(e *entry) {
	e.due = e.sched.Next(e.last.UTC())
	e.fireAt = e.due
	if e.due.IsZero() {
		return
	}
	if t.jitter > 0 {
		e.fireAt = e.due.Add(t.rand(t.jitter))
	}
}

// Take returns the checks that fire at now, sorted by repository, and
// moves each repository to its next due time. Due times missed in between
// (atoll was down, or the jitter is longer than the period) are skipped:
// a repository fires once however late it is.
func (t *Timetable) Take(now time.Time) []Fire {
	var out []Fire
	for repo, e := range t.repos {
		if e.due.IsZero() || e.fireAt.After(now) {
			continue
		}
		out = append(out, Fire{Repo: repo, Due: e.due})
		e.last = e.due
		if next := e.sched.Next(e.last.UTC()); !next.IsZero() && !next.After(now) {
			e.last = now
		}
		t.plan(e)
	}
	sort.Slice(out, func(i, j int) bool { return strings.Compare(out[i].Repo, out[j].Repo) < 0 })
	return out
}

// Next is the earliest time a repository fires; zero when none will.
func (t *Timetable) Next() time.Time {
	var at time.Time
	for _, e := range t.repos {
		if e.due.IsZero() {
			continue
		}
		if at.IsZero() || e.fireAt.Before(at) {
			at = e.fireAt
		}
	}
	return at
}
