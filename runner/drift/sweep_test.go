package drift_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/drift"
	"github.com/atollhq/atoll/vcs"
)

// source is a code host's served repositories and their atoll.yaml drift
// settings, counting what the sweep reads.
type source struct {
	repos    []vcs.Repo
	settings map[string]drift.RepoSettings
	broken   map[string]bool // atoll.yaml that does not read
	listErr  error
	lists    int
	reads    map[string]int
}

func (s *source) ServedRepos(context.Context) ([]vcs.Repo, error) {
	s.lists++
	return s.repos, s.listErr
}

func (s *source) RepoSettings(_ context.Context, repo vcs.Repo) (drift.RepoSettings, error) {
	s.reads[repo.FullName()]++
	if s.broken[repo.FullName()] {
		return drift.RepoSettings{}, errors.New("atoll.yaml: bad yaml")
	}
	return s.settings[repo.FullName()], nil
}

func repo(name string) vcs.Repo { return vcs.Repo{Owner: "acme", Name: name, DefaultBranch: "main"} }

// Each repository gets the server's schedule, or with repo_override its
// atoll.yaml's (off when it turns drift off); a repository without
// atoll.yaml, or whose atoll.yaml does not read, keeps the server's.
func TestSweepSchedules(t *testing.T) {
	src := &source{repos: []vcs.Repo{repo("plain"), repo("own"), repo("off"), repo("broken")},
		settings: map[string]drift.RepoSettings{
			"acme/own": {Present: true, Enabled: true, Schedule: "@hourly"},
			"acme/off": {Present: true, Enabled: false},
		}, broken: map[string]bool{"acme/broken": true}, reads: map[string]int{}}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

	s := drift.NewSweep(src, config.Drift{Enabled: true, Schedule: "@daily"}, slog.New(slog.DiscardHandler))
	want := map[string]string{"acme/plain": "@daily", "acme/own": "@daily", "acme/off": "@daily", "acme/broken": "@daily"}
	if got := s.Schedules(context.Background(), now); !maps.Equal(got, want) {
		t.Errorf("without repo_override: %v, want %v", got, want)
	}
	if len(src.reads) != 0 {
		t.Errorf("atoll.yaml read without repo_override: %v", src.reads)
	}

	s = drift.NewSweep(src, config.Drift{Enabled: true, Schedule: "@daily", RepoOverride: true}, slog.New(slog.DiscardHandler))
	want = map[string]string{"acme/plain": "@daily", "acme/own": "@hourly", "acme/off": "", "acme/broken": "@daily"}
	if got := s.Schedules(context.Background(), now); !maps.Equal(got, want) {
		t.Errorf("with repo_override: %v, want %v", got, want)
	}

	s = drift.NewSweep(src, config.Drift{RepoOverride: true}, slog.New(slog.DiscardHandler))
	if !s.Enabled() {
		t.Fatal("repo_override alone: not enabled")
	}
	want = map[string]string{"acme/plain": "", "acme/own": "@hourly", "acme/off": "", "acme/broken": ""}
	if got := s.Schedules(context.Background(), now); !maps.Equal(got, want) {
		t.Errorf("server off, repo_override on: %v, want %v", got, want)
	}
	if drift.NewSweep(src, config.Drift{}, slog.New(slog.DiscardHandler)).Enabled() {
		t.Error("drift off and no repo_override: enabled")
	}
}

// What the sweep caches is read again after its time to live, or at once
// after a push to the default branch (atoll.yaml) or an installation
// change (the repositories); each webhook wakes the loop. A listing that
// fails keeps the last one.
func TestSweepCacheAndWebhooks(t *testing.T) {
	src := &source{repos: []vcs.Repo{repo("a")}, settings: map[string]drift.RepoSettings{
		"acme/a": {Present: true, Enabled: true, Schedule: "@daily"}}, reads: map[string]int{}}
	s := drift.NewSweep(src, config.Drift{RepoOverride: true}, slog.New(slog.DiscardHandler))
	ctx, now := context.Background(), time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s.Schedules(ctx, now)
	if !s.Serves("acme/a") || s.Serves("acme/b") {
		t.Fatal("Serves does not follow the listing")
	}
	src.settings["acme/a"] = drift.RepoSettings{Present: true, Enabled: true, Schedule: "@hourly"}
	src.repos = append(src.repos, repo("b"))
	if got := s.Schedules(ctx, now.Add(time.Minute)); got["acme/a"] != "@daily" || len(got) != 1 || src.lists != 1 || src.reads["acme/a"] != 1 {
		t.Fatalf("within the TTLs: %v (%d lists, %d reads), want the cache", got, src.lists, src.reads["acme/a"])
	}

	s.OnPush(repo("a"), "refs/heads/feature")
	if got := s.Schedules(ctx, now.Add(2*time.Minute)); got["acme/a"] != "@daily" {
		t.Errorf("a push to another branch read atoll.yaml again: %v", got)
	}
	s.OnPush(repo("a"), "refs/heads/main")
	select {
	case <-s.Woken():
	default:
		t.Error("a push to the default branch did not wake the loop")
	}
	if got := s.Schedules(ctx, now.Add(3*time.Minute)); got["acme/a"] != "@hourly" || len(got) != 1 {
		t.Errorf("after a push to main: %v, want acme/a @hourly only", got)
	}
	s.OnInstallation()
	<-s.Woken()
	if got := s.Schedules(ctx, now.Add(4*time.Minute)); len(got) != 2 || !s.Serves("acme/b") {
		t.Errorf("after an installation change: %v, want acme/b listed", got)
	}

	src.listErr = errors.New("github down")
	if got := s.Schedules(ctx, now.Add(drift.ReposTTL+5*time.Minute)); len(got) != 2 {
		t.Errorf("a failed listing dropped repositories: %v", got)
	}
	reads := src.reads["acme/b"]
	s.Schedules(ctx, now.Add(drift.ConfigTTL+5*time.Minute))
	if src.reads["acme/b"] != reads+1 {
		t.Errorf("atoll.yaml not read again after %s", drift.ConfigTTL)
	}
}

// A webhook another replica handled makes the list, or a listed
// repository's schedule, be read again at the next Schedules; the loop is
// woken; a repository not listed is ignored.
func TestSweepStale(t *testing.T) {
	src := &source{repos: []vcs.Repo{repo("a"), repo("b")}, reads: map[string]int{}}
	s := drift.NewSweep(src, config.Drift{Enabled: true, Schedule: "@daily", RepoOverride: true}, slog.New(slog.DiscardHandler))
	ctx, now := context.Background(), time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s.Schedules(ctx, now)
	s.Stale(false, "acme/a", "acme/zzz")
	select {
	case <-s.Woken():
	default:
		t.Fatal("Stale did not wake the loop")
	}
	s.Schedules(ctx, now.Add(time.Minute))
	if src.lists != 1 || src.reads["acme/a"] != 2 || src.reads["acme/b"] != 1 || src.reads["acme/zzz"] != 0 {
		t.Fatalf("after a pushed repository: %d lists, reads %v; want acme/a read again only", src.lists, src.reads)
	}
	s.Stale(true)
	s.Schedules(ctx, now.Add(2*time.Minute))
	if src.lists != 2 {
		t.Fatalf("after an installation change elsewhere: %d lists, want 2", src.lists)
	}
}
