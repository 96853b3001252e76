package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/runner/gate"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// runSpec is records.RunSpec.
type runSpec = records.RunSpec

// startPlanRun starts a plan of projects for a PR. A note, such as the
// repository configuration's warnings, heads its comment ("" for none);
// also are stored with the run and its jobs, in one transaction.
func (r *Runner) startPlanRun(ctx context.Context, pr vcs.PullRequest, command, user string, projects []Project, extra []string, opts RunOptions, note string, also ...locks.RecordUpdate) (Run, error) {
	spec := runSpec{Repo: pr.Repo, Number: pr.Number, Command: command, User: user, HeadSHA: pr.HeadSHA, PlanComment: true, Options: opts}
	spec.Message = note
	if len(also) > 0 {
		spec.Also = func(string) []locks.RecordUpdate { return also }
	}
	for _, p := range projects {
		spec.Jobs = append(spec.Jobs, Job{
			Kind: JobPlan, Repo: pr.Repo, Number: pr.Number, Project: p,
			HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA, ExtraArgs: extra, User: user, PRAuthor: pr.Author,
		})
	}
	return r.startRun(ctx, spec)
}

// startRun persists a run and its jobs (with spec.also, in one
// transaction), then opens their check runs and the run's comment, and
// queues the jobs. Nothing is said on the code host before the jobs are
// durable: a process stopped at any point either left no trace of the run
// (the delivery is handled again at start-up) or left queued jobs that the
// start-up recovery runs.
func (r *Runner) startRun(ctx context.Context, spec runSpec) (Run, error) {
	if err := clearApplies(spec.Jobs, spec.Clearances); err != nil {
		return Run{}, err
	}
	now := r.now()
	buckets := []string{records.Runs} // the run's id, then its jobs', in one commit
	for range spec.Jobs {
		buckets = append(buckets, records.Jobs)
	}
	ids, err := r.rec.NewIDs(ctx, now, buckets...)
	if err != nil {
		return Run{}, err
	}
	run := Run{ID: "r" + ids[0], Repo: spec.Repo, Number: spec.Number, Command: spec.Command,
		User: spec.User, HeadSHA: spec.HeadSHA, Message: spec.Message, DriftRun: spec.DriftRun, Created: now,
		Options: spec.Options}
	var batch []locks.RecordUpdate
	for i := range spec.Jobs {
		j := &spec.Jobs[i]
		j.ID, j.RunID, j.State, j.Created = "j"+ids[i+1], run.ID, JobQueued, now
		j.LogPath = r.logPath(j.ID)
		j.Outcome.Status = string(templates.StatusQueued)
		batch = append(batch, records.PutUpdate(records.Jobs, j.ID, *j))
		run.JobIDs = append(run.JobIDs, j.ID)
		run.Ordered = run.Ordered || j.Project.OrderGroup != 0 || j.Serial()
	}
	batch = append(batch, records.PutUpdate(records.Runs, run.ID, run))
	if spec.Also != nil {
		batch = append(batch, spec.Also(run.ID)...)
	}
	if err := r.cfg.Store.UpdateRecords(ctx, batch); err != nil {
		return Run{}, fmt.Errorf("store run: %w", err)
	}
	// The check runs and the comment are opened side by side (the comment
	// shows no check run), a few check runs at a time: round trips to
	// GitHub one after another were on every job's way to its start. The
	// jobs are queued once their check runs are open (a job opens its own
	// only when it has none), while the comment may still be on its way:
	// the run's comment is rendered under its lock (renderRun), so a job
	// that starts first posts it, and this edits it.
	checks := r.openChecks(ctx, spec.Jobs)
	commented := make(chan struct{})
	go func() {
		defer close(commented)
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("panic posting a run's comment", "run", run.ID, "panic", fmt.Sprint(p))
			}
		}()
		if spec.Number > 0 {
			if err := r.renderRun(ctx, run.ID); err != nil {
				r.log.Error("post run comment", "run", run.ID, "err", err)
			}
			if spec.PlanComment {
				r.rememberPlanComment(ctx, run.ID)
			}
		}
	}()
	defer func() { <-commented }()
	<-checks
	if spec.BeforeQueue != nil {
		<-commented // an apply binds its plans with its comment shown, as before
		spec.BeforeQueue(ctx, spec.Jobs)
	}
	for _, j := range spec.Jobs {
		r.enqueue(j.ID)
	}
	return run, nil
}

// checksAtOnce bounds the check runs one run opens at the same time:
// GitHub asks integrations not to send many requests at once.
const checksAtOnce = 4

// errNotCleared: an apply job was about to start without the gate's
// clearance. It is a bug, never a user's doing.
var errNotCleared = errors.New("no clearance from the gate")

// startApply starts a run of apply jobs, each of whose projects needs a
// valid clearance in cleared, which only gate.Decide makes.
func (r *Runner) startApply(ctx context.Context, spec runSpec, cleared []gate.Clearance) (Run, error) {
	spec.Clearances = cleared
	return r.startRun(ctx, spec)
}

// clearApplies checks that every apply job has a valid clearance for its
// project among cleared, and gives each the path it was cleared on;
// startRun refuses a run otherwise.
func clearApplies(jobs []Job, cleared []gate.Clearance) error {
	for i, j := range jobs {
		if j.Kind != JobApply && j.Kind != JobPlanApply {
			continue
		}
		found := false
		for _, c := range cleared {
			if c.Valid() && c.Project() == j.Project.Name {
				jobs[i].Path, found = string(c.Path()), true
				break
			}
		}
		if !found {
			return fmt.Errorf("apply of %s: %w", j.Project.Name, errNotCleared)
		}
	}
	return nil
}

// openChecks opens the check runs of jobs (ensureCheck), up to
// checksAtOnce at a time, and closes the channel it returns when all are
// done. A panic in one is logged and leaves that job without a check run
// until it runs.
func (r *Runner) openChecks(ctx context.Context, jobs []Job) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		sem := make(chan struct{}, checksAtOnce)
		for i := range jobs {
			sem <- struct{}{}
			wg.Add(1)
			go func(j *Job) {
				defer func() {
					if p := recover(); p != nil {
						r.log.Error("panic opening a check run", "job", j.ID, "panic", fmt.Sprint(p))
					}
					<-sem
					wg.Done()
				}()
				r.ensureCheck(ctx, j)
			}(&jobs[i])
		}
		wg.Wait()
	}()
	return done
}

// ensureCheck opens a job's check run when it should have one and has
// none yet, and stores its id with the job. A job stored by a process
// that stopped before its check run was opened gets it when it runs.
func (r *Runner) ensureCheck(ctx context.Context, j *Job) {
	if j.CheckRun != 0 || j.Kind == JobDrift || j.HeadSHA == "" {
		return
	}
	crashpoint.Hit(ctx, crashpoint.OpenCheck)
	id := r.view.OpenCheck(ctx, *j)
	if id == 0 {
		return
	}
	j.CheckRun = id
	err := records.Update(ctx, r.rec, records.Jobs, j.ID, func(cur *Job, exists bool) error {
		if !exists {
			return records.ErrAbort
		}
		cur.CheckRun = id
		return nil
	})
	if err != nil {
		r.log.Warn("store check run id", "job", j.ID, "err", err)
	}
}

// rememberPlanComment records a run's comments on its PR so that a later
// head can minimize them.
func (r *Runner) rememberPlanComment(ctx context.Context, runID string) {
	var run Run
	if ok, err := r.rec.Get(ctx, records.Runs, runID, &run); err != nil || !ok {
		return
	}
	_ = r.rec.AddPlanComments(ctx, run.Repo.FullName(), run.Number, run.CommentIDs)
}

// enqueue hands a job to the workers.
func (r *Runner) enqueue(jobID string) {
	r.signalQueuedJobs() // other replicas' workers may take it
	select {
	case r.queue <- jobID:
	default:
		// The buffer is full: the job stays queued in the store and is
		// picked up by the next sweep.
		r.log.Warn("job queue full; job waits for the next sweep", "job", jobID)
	}
}
