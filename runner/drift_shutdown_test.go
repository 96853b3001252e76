package runner

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

// stallingHost's installation listing waits until its ctx ends, as a
// GitHub call stuck on a slow network would.
type stallingHost struct {
	*fakeHost
	asked chan struct{}
}

func (h stallingHost) ListInstallations(ctx context.Context) ([]int64, error) {
	close(h.asked)
	<-ctx.Done()
	return nil, ctx.Err()
}

// A drift launch runs under the runner's lifetime: when it ends
// (shutdown), a launch stuck on GitHub stops, Wait returns, and the run is
// left open for the next start to restart rather than marked done with
// the shutdown's error.
func TestDriftLaunchStopsAtShutdown(t *testing.T) {
	h := stallingHost{fakeHost: &fakeHost{repos: []vcs.Repo{repoOf("a")}}, asked: make(chan struct{})}
	r, _ := schedTestRunner(t, config.DefaultServer(), h)
	ctx := context.Background()
	dr := DriftRun{ID: "d1", Repo: "acme/a", State: "queued", Projects: []DriftProject{}, Created: time.Now()}
	if err := r.rec.Put(ctx, records.DriftRuns, dr.ID, dr); err != nil {
		t.Fatal(err)
	}
	r.drift.checker.Launch(dr)
	<-h.asked
	r.endLife()
	done := make(chan struct{})
	go func() { r.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return after shutdown: the drift launch ignores it")
	}
	var got DriftRun
	if _, err := r.rec.Get(ctx, records.DriftRuns, dr.ID, &got); err != nil {
		t.Fatal(err)
	}
	if got.State == "done" {
		t.Errorf("drift run cut off by shutdown is %q (%s); want it left open for the next start", got.State, got.Error)
	}
}

// noSlugHost fails the first call Start makes.
type noSlugHost struct{ *fakeHost }

func (noSlugHost) AppSlug(context.Context) (string, error) { return "", errors.New("no app") }

// The runner's lifetime is Start's ctx: it ends when that ctx ends, even
// when Start itself failed.
func TestRunnerLifeEndsWithStartContext(t *testing.T) {
	r, _ := schedTestRunner(t, config.DefaultServer(), &fakeHost{})
	r.host = noSlugHost{&fakeHost{}}
	r.life, r.endLife = context.WithCancel(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Start(ctx); err == nil {
		t.Fatal("Start without an App slug: no error")
	}
	if r.life.Err() != nil {
		t.Fatal("the runner's lifetime ended before Start's ctx")
	}
	cancel()
	select {
	case <-r.life.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the runner's lifetime did not end with Start's ctx")
	}
}
