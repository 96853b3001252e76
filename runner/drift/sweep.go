package drift

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/vcs"
)

// How often the sweep looks again at what it caches. Webhooks make it
// look sooner: an installation change lists the repositories again, a push
// to a default branch reads that repository's atoll.yaml again.
const (
	ReposTTL  = 10 * time.Minute
	ConfigTTL = time.Hour
)

// RepoSettings is what a repository's atoll.yaml at its default branch
// says of drift detection.
type RepoSettings struct {
	// Present is false when the repository has no atoll.yaml.
	Present bool
	// Enabled and Schedule are its drift.enabled and drift.schedule.
	Enabled  bool
	Schedule string
}

// Source is what the sweep reads of the code host: the served
// repositories and a repository's drift settings.
type Source interface {
	ServedRepos(ctx context.Context) ([]vcs.Repo, error)
	RepoSettings(ctx context.Context, repo vcs.Repo) (RepoSettings, error)
}

// Sweep knows which repositories are checked on which schedule: it caches
// the served repositories (listed again after ReposTTL or an installation
// change) and each one's schedule (read again after ConfigTTL or a push
// to its default branch). It is safe for concurrent use: webhooks mark
// entries stale while the scheduler's loop reads them.
type Sweep struct {
	src Source
	cfg config.Drift
	log *slog.Logger

	mu        sync.Mutex
	repos     map[string]*sweepRepo
	listed    time.Time
	listStale bool
	poke      chan struct{}
}

// sweepRepo is a served repository and its drift schedule as last read.
type sweepRepo struct {
	repo  vcs.Repo
	spec  string // "" when drift detection is off for it
	read  time.Time
	stale bool
}

// NewSweep returns a sweep of src's repositories under the server's drift
// settings; it has read nothing yet.
func NewSweep(src Source, cfg config.Drift, log *slog.Logger) *Sweep {
	return &Sweep{src: src, cfg: cfg, log: log, repos: map[string]*sweepRepo{}, poke: make(chan struct{}, 1)}
}

// Enabled reports whether any repository may have a drift schedule: the
// server's is on, or repositories may turn theirs on.
func (s *Sweep) Enabled() bool {
	return s.cfg.Enabled || s.cfg.RepoOverride
}

// Schedules lists the served repositories and reads their schedules where
// what it cached is stale at now, and returns repo ("owner/name") ->
// schedule ("" when drift detection is off for it). A listing that fails
// keeps the last one.
func (s *Sweep) Schedules(ctx context.Context, now time.Time) map[string]string {
	s.mu.Lock()
	list := s.listStale || s.listed.IsZero() || now.Sub(s.listed) >= ReposTTL
	s.listStale = false
	s.mu.Unlock()
	if list {
		repos, err := s.src.ServedRepos(ctx)
		if err != nil {
			s.log.Error("drift: list repositories", "err", err)
		} else {
			s.mu.Lock()
			seen := map[string]*sweepRepo{}
			for _, repo := range repos {
				sr := s.repos[repo.FullName()]
				if sr == nil {
					sr = &sweepRepo{}
				}
				sr.repo = repo
				seen[repo.FullName()] = sr
			}
			s.repos, s.listed = seen, now
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	var toRead []*sweepRepo
	for _, sr := range s.repos {
		if sr.stale || sr.read.IsZero() || now.Sub(sr.read) >= ConfigTTL {
			sr.stale = false
			toRead = append(toRead, sr)
		}
	}
	s.mu.Unlock()
	for _, sr := range toRead {
		spec := s.scheduleOf(ctx, sr.repo)
		s.mu.Lock()
		sr.spec, sr.read = spec, now
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	specs := make(map[string]string, len(s.repos))
	for name, sr := range s.repos {
		specs[name] = sr.spec
	}
	return specs
}

// scheduleOf is a repository's drift schedule, "" when drift detection is
// off for it: the server's, or its atoll.yaml's when the server allows
// repo_override. A broken or unreadable atoll.yaml keeps the server's.
func (s *Sweep) scheduleOf(ctx context.Context, repo vcs.Repo) string {
	server := ""
	if s.cfg.Enabled {
		server = s.cfg.Schedule
	}
	if !s.cfg.RepoOverride {
		return server
	}
	rs, err := s.src.RepoSettings(ctx, repo)
	if err != nil {
		s.log.Warn("drift: read atoll.yaml; using the server's schedule", "repo", repo.FullName(), "err", err)
		return server
	}
	if !rs.Present {
		return server
	}
	if !rs.Enabled {
		return ""
	}
	return rs.Schedule
}

// OnPush notes a push of ref: a push to a default branch may change its
// atoll.yaml, read again at the next Schedules.
func (s *Sweep) OnPush(repo vcs.Repo, ref string) {
	if !s.Enabled() || !s.cfg.RepoOverride {
		return
	}
	s.mu.Lock()
	sr, ok := s.repos[repo.FullName()]
	if ok && (sr.repo.DefaultBranch == "" || ref == "refs/heads/"+sr.repo.DefaultBranch) {
		sr.stale = true
	}
	s.mu.Unlock()
	if ok {
		s.wake()
	}
}

// OnInstallation notes that the served repositories may have changed:
// the next Schedules lists them again.
func (s *Sweep) OnInstallation() {
	if !s.Enabled() {
		return
	}
	s.mu.Lock()
	s.listStale = true
	s.mu.Unlock()
	s.wake()
}

// Woken receives when a webhook changed what the sweep knows, so the
// scheduler's loop looks again before its timer.
func (s *Sweep) Woken() <-chan struct{} { return s.poke }

func (s *Sweep) wake() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// Serves reports whether the repository ("owner/name") is among the
// served repositories last listed.
func (s *Sweep) Serves(repo string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.repos[repo]
	return ok
}

// Stale marks what changed by a webhook another replica handled: the
// repository list (list) and the schedules of the named repositories
// ("owner/name"; those not listed are ignored) are read again at the next
// Schedules. It wakes the loop.
func (s *Sweep) Stale(list bool, repos ...string) {
	s.mu.Lock()
	if list {
		s.listStale = true
	}
	for _, name := range repos {
		if sr, ok := s.repos[name]; ok {
			sr.stale = true
		}
	}
	s.mu.Unlock()
	s.wake()
}
