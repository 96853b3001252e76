package runner

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
)

// Observer is told about finished jobs and terraform runs (metrics).
// Labels it receives are bounded: job kinds, outcomes (job states, or
// "requeued"), terraform commands and exit codes.
type Observer interface {
	ObserveJob(kind, outcome string, took time.Duration)
	ObserveTerraformExit(command string, code int)
}

type noObserver struct{}

func (noObserver) ObserveJob(string, string, time.Duration) {}
func (noObserver) ObserveTerraformExit(string, int)         {}

// Gauges are the runner's counts at one moment, read from the store.
type Gauges struct {
	Queued  int
	Running int
	Locks   int
	// Drift counts projects by the status of their last drift check.
	Drift map[string]int
}

// Gauges counts queued and running jobs, locks held, and projects by
// drift status.
func (r *Runner) Gauges(ctx context.Context) (Gauges, error) {
	g := Gauges{Drift: map[string]int{}}
	jobs, err := records.List[Job](ctx, r.rec, records.Jobs, "")
	if err != nil {
		return g, err
	}
	for _, j := range jobs {
		switch j.State {
		case JobQueued:
			g.Queued++
		case JobRunning:
			g.Running++
		}
	}
	held, err := r.cfg.Store.List(ctx)
	if err != nil {
		return g, err
	}
	g.Locks = len(held)
	recs, err := records.List[DriftRecord](ctx, r.rec, records.Drift, "")
	if err != nil {
		return g, err
	}
	for _, d := range recs {
		if n := len(d.History); n > 0 && d.History[n-1].Status != "" {
			g.Drift[d.History[n-1].Status]++
		}
	}
	return g, nil
}

// Ready names what keeps the runner from serving ("workers": not started,
// or stopping); nil when its workers run.
func (r *Runner) Ready() []string {
	if !r.started.Load() || r.stopping() {
		return []string{"workers"}
	}
	return nil
}

// activeJob is a job a worker runs now.
type activeJob struct {
	job     Job
	cancel  context.CancelFunc
	requeue atomic.Bool // Drain cancelled it: it goes back to the queue
}

// shutdown is the state of a graceful stop (see Drain).
type shutdown struct {
	mu       sync.Mutex
	draining bool
	active   map[string]*activeJob
	jobs     sync.WaitGroup // running jobs
	stopped  chan struct{}  // closed by Drain: workers take no more jobs
}

func (r *Runner) stopping() bool {
	r.sd.mu.Lock()
	defer r.sd.mu.Unlock()
	return r.sd.draining
}

// track registers a claimed job as running; ok is false when Drain has
// begun (the caller then puts the job back in the queue).
func (r *Runner) track(job Job, cancel context.CancelFunc) (aj *activeJob, ok bool) {
	r.sd.mu.Lock()
	defer r.sd.mu.Unlock()
	aj = &activeJob{job: job, cancel: cancel}
	if r.sd.draining {
		return aj, false
	}
	if r.sd.active == nil {
		r.sd.active = map[string]*activeJob{}
	}
	r.sd.active[job.ID] = aj
	r.sd.jobs.Add(1)
	return aj, true
}

func (r *Runner) untrack(id string) {
	r.sd.mu.Lock()
	defer r.sd.mu.Unlock()
	if _, ok := r.sd.active[id]; ok {
		delete(r.sd.active, id)
		r.sd.jobs.Done()
	}
}

// Drain begins a graceful stop: workers take no more jobs (queued jobs
// stay queued, and deliveries keep being stored), running plans and drift
// checks are cancelled and queued again for the next start, and running
// applies are given until grace ends to finish. It returns once no job
// runs, or when grace ended (an apply still running is then cut off when
// Start's context ends, and the next start reports it interrupted).
// Drain reports whether every job ended in time.
func (r *Runner) Drain(grace time.Duration) bool {
	r.sd.mu.Lock()
	if !r.sd.draining {
		r.sd.draining = true
		close(r.sd.stopped)
	}
	for _, aj := range r.sd.active {
		if aj.job.Kind == JobPlan || aj.job.Kind == JobDrift {
			aj.requeue.Store(true)
			aj.cancel()
		}
	}
	n := len(r.sd.active)
	r.sd.mu.Unlock()
	r.log.Info("stopping: no new jobs; plans are queued again, running applies may finish", "running", n, "grace", grace.String())
	done := make(chan struct{})
	go func() { r.sd.jobs.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(grace):
		r.log.Warn("stopping: shutdown_grace ended with jobs still running; they will be reported interrupted")
		return false
	}
}

// requeue puts a job Drain cancelled back in the queue, as it was before
// a worker claimed it, so the next start runs it again.
func (r *Runner) requeue(ctx context.Context, job Job) {
	err := records.Update(ctx, r.rec, records.Jobs, job.ID, func(j *Job, exists bool) error {
		if !exists {
			return records.ErrAbort
		}
		j.State, j.Started = JobQueued, time.Time{}
		j.Outcome = Outcome{Status: string(templates.StatusQueued)}
		job = *j
		return nil
	})
	if err != nil {
		r.log.Error("queue a cancelled job again", "job", job.ID, "err", err)
		return
	}
	r.log.Info("job cancelled by shutdown; queued again for the next start", "job", job.ID)
	r.signalQueuedJobs() // another replica may take it now
	r.observer.ObserveJob(string(job.Kind), "requeued", 0)
	r.view.ShowCheck(ctx, job, templates.CheckRestarting)
	r.afterUpdate(ctx, job)
}

// jobLogHandler adds a running job's repo, PR and project to every log
// line that names the job (attribute "job"), so that each line about a
// job can be found by any of them.
type jobLogHandler struct {
	slog.Handler
	r *Runner
}

func (h jobLogHandler) Handle(ctx context.Context, rec slog.Record) error {
	var id string
	has := map[string]bool{}
	rec.Attrs(func(a slog.Attr) bool {
		has[a.Key] = true
		if a.Key == "job" {
			id = a.Value.String()
		}
		return true
	})
	if id != "" {
		h.r.sd.mu.Lock()
		aj := h.r.sd.active[id]
		h.r.sd.mu.Unlock()
		if aj != nil {
			add := func(k string, v any) {
				if !has[k] {
					rec.AddAttrs(slog.Any(k, v))
				}
			}
			add("repo", aj.job.Repo.FullName())
			add("pr", aj.job.Number)
			add("project", aj.job.Project.Name)
		}
	}
	return h.Handler.Handle(ctx, rec)
}

func (h jobLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return jobLogHandler{h.Handler.WithAttrs(as), h.r}
}

func (h jobLogHandler) WithGroup(name string) slog.Handler {
	return jobLogHandler{h.Handler.WithGroup(name), h.r}
}
