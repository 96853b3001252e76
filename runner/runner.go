// Package runner is atoll's engine: it turns code host events into runs
// of project jobs and runs the jobs on a bounded worker pool. It owns
// New/Start/Wait, the inbox and event dispatch, the workers, starting runs
// and jobs, recovery, reconciliation, the rescue of dead replicas' jobs,
// queries and operations; everything else is a package below it with one
// job (see the README's architecture section), built once in New (wire.go)
// and reaching back only through the small interfaces it declares
// (bridge_*.go). It speaks neither HTTP nor GitHub JSON: the code host is
// behind Host and Git, durable state behind Store.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollhq/atoll/policy"
	"github.com/atollhq/atoll/runner/clearance"
	"github.com/atollhq/atoll/runner/config"
	"github.com/atollhq/atoll/runner/execute"
	"github.com/atollhq/atoll/runner/lease"
	"github.com/atollhq/atoll/runner/lockqueue"
	"github.com/atollhq/atoll/runner/mask"
	"github.com/atollhq/atoll/runner/order"
	"github.com/atollhq/atoll/runner/pr"
	"github.com/atollhq/atoll/runner/projects"
	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/runner/switches"
	"github.com/atollhq/atoll/runner/terraform"
	"github.com/atollhq/atoll/runner/trail"
	"github.com/atollhq/atoll/runner/view"
	"github.com/atollhq/atoll/runner/workflow"
	"github.com/atollhq/atoll/templates"
	"github.com/atollhq/atoll/vcs"
)

// Config wires a Runner. Host, Git, Store and Templates are required.
type Config struct {
	// Server is the server configuration the runner follows (from
	// config.LoadServer); the runner reads it and never changes it. Its
	// zero values take config.DefaultServer's where the runner needs one.
	Server    config.Server
	Host      Host
	Git       Git
	Store     Store
	Templates *templates.Renderer
	// Policies may be nil: no policy sets.
	Policies *policy.Engine
	// ParseEvent turns a stored delivery into an event (vcs/github.ParseWebhook).
	ParseEvent func(event, deliveryID string, body []byte) (vcs.Event, error)
	// Resolve finds terraform; default terraform.Resolve.
	Resolve func(ctx context.Context, o terraform.ResolveOptions) (terraform.Binary, error)
	// Launch starts the commands of a workflow's run, env and multienv
	// steps; default workflow.Exec. The sandbox wraps it, as it wraps
	// terraform.
	Launch workflow.Launcher
	// DataDir holds worktrees, plan files and job logs.
	DataDir string
	// Sandbox confines terraform. Nil: terraform runs unconfined, and
	// every command comment warns about it.
	Sandbox *Sandbox
	// BaseURL is atoll's public URL, for links to job pages.
	BaseURL string
	// HTMLURL is the code host's web URL, for links to pull requests
	// (default https://github.com).
	HTMLURL string
	// Version and Commit are atoll's, for `atoll version`.
	Version string
	Commit  string
	// Masker masks secrets in every text the runner writes (comments,
	// issues, check runs, job logs, its log lines) and in terraform's
	// output; the terraform secrets of Server are added to it. Nil: a masker
	// of those secrets alone.
	Masker *mask.Masker
	Logger *slog.Logger
	Now    func() time.Time
	// Observer is told about finished jobs and terraform runs (metrics);
	// nil: nobody.
	Observer Observer
	// Audit receives a record of every decision (runner/trail); nil: none.
	Audit AuditTrail
	// AuditRetention prunes older audit records hourly; 0: keep all.
	AuditRetention time.Duration
	// Cluster says whether other replicas share Store (see runner/lease).
	Cluster Cluster
}

// Runner is the engine. Create it with New, start it with Start.
type Runner struct {
	cfg Config
	srv config.Server
	// tfEnv and tfSecrets are the environment of every terraform run and
	// the values of it to mask (config.Terraform.Environ).
	tfEnv     map[string]string
	tfSecrets []string
	host      Host
	git       Git
	rec       records.Records
	tmpl      *templates.Renderer
	log       *slog.Logger
	now       func() time.Time
	botLogin  string
	masker    *mask.Masker

	queue    chan string      // job ids ready to run
	wake     chan struct{}    // a delivery arrived
	events   chan struct{}    // bounds concurrent event handling
	runMu    lease.KeyedMutex // per run: comment edits
	projMu   lease.KeyedMutex // per repo+dir+workspace: one terraform at a time
	prMu     lease.KeyedMutex // per PR: event handling that reads then writes PR state
	inFlight sync.Map         // delivery ids being handled (true) or handled (false); see handlePending
	wg       sync.WaitGroup
	// The services the engine drives, each built once in New (wire.go).
	projects  *projects.Loader    // atoll.yaml and project discovery
	view      *view.View          // what a run shows: comments, replies, check texts
	gates     *clearance.Gatherer // the facts the gate decides from, and its decisions
	exec      *execute.Jobs       // the job bodies
	pr        *pr.Life            // the pull requests' life
	drift     *driftScheduler     // drift checks, reports and remediation
	order     order.Groups        // when a job of a run may start
	trail     *trail.Trail        // the audit trail of decisions
	switches  *switches.Switches  // disable_apply and the apply lock
	observer  Observer
	started   atomic.Bool      // Start began the workers
	leases    *lease.Leases    // this replica's claims in the store (runner/lease)
	leader    *lease.Leader    // runs the leader's tasks while this replica leads
	planQueue *lockqueue.Queue // PRs waiting for a held project lock (runner/lockqueue)
	sd        shutdown
	// life ends when the ctx given to Start ends (or at once, if Start's
	// ctx has ended): the context of work Start does not begin itself but
	// that must stop at shutdown, such as a drift launch.
	life    context.Context
	endLife context.CancelFunc
}

// New checks cfg and returns a Runner that does nothing until Start.
func New(cfg Config) (*Runner, error) {
	switch {
	case cfg.Host == nil:
		return nil, errors.New("runner: Host is required")
	case cfg.Git == nil:
		return nil, errors.New("runner: Git is required")
	case cfg.Store == nil:
		return nil, errors.New("runner: Store is required")
	case cfg.Templates == nil:
		return nil, errors.New("runner: Templates is required")
	case cfg.ParseEvent == nil:
		return nil, errors.New("runner: ParseEvent is required")
	case cfg.DataDir == "":
		return nil, errors.New("runner: DataDir is required")
	}
	if cfg.Resolve == nil {
		cfg.Resolve = terraform.Resolve
	}
	if cfg.Launch == nil {
		cfg.Launch = workflow.Exec
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	cfg.Server = cfg.Server.WithRunnerDefaults()
	tfEnv, tfSecrets := cfg.Server.Terraform.Environ(os.LookupEnv)
	if cfg.Cluster.JobLease <= 0 {
		cfg.Cluster.JobLease = cfg.Server.JobLease
	}
	cfg.Cluster.Defaults()
	if cfg.Masker == nil {
		cfg.Masker = mask.New()
	}
	cfg.Masker.Add(tfSecrets...)
	cfg.Logger = slog.New(cfg.Masker.Handler(cfg.Logger.Handler()))
	r := &Runner{
		cfg:       cfg,
		srv:       cfg.Server,
		tfEnv:     tfEnv,
		tfSecrets: tfSecrets,
		host:      cfg.Host,
		git:       cfg.Git,
		rec:       records.New(cfg.Store),
		tmpl:      cfg.Templates,
		log:       cfg.Logger,
		now:       cfg.Now,
		masker:    cfg.Masker,
		queue:     make(chan string, 4096),
		wake:      make(chan struct{}, 1),
		events:    make(chan struct{}, 8),

		observer: cfg.Observer,
		sd:       shutdown{stopped: make(chan struct{})},
	}
	r.log = slog.New(jobLogHandler{cfg.Logger.Handler(), r})
	r.leases = lease.New(cfg.Store, cfg.Cluster, r.now, r.log)
	r.leader = lease.NewLeader(r.leases, leaderRuntime{r})
	r.life, r.endLife = context.WithCancel(context.Background())
	r.wire()
	if cfg.Cluster.Shared {
		r.prMu.Shared = r.leases.Mutex("pr/")
		r.runMu.Shared = r.leases.Mutex("run/") // one replica edits a run's comment at a time
		r.projMu.Shared = r.leases.Mutex("project/")
	}
	return r, nil
}

// Start recovers jobs left by a previous process, then runs the workers,
// the inbox, the reconciler and the drift scheduler until ctx ends. It
// returns once recovery is done; Wait waits for the goroutines.
func (r *Runner) Start(ctx context.Context) error {
	context.AfterFunc(ctx, r.endLife)
	slug, err := r.host.AppSlug(ctx)
	if err != nil {
		return fmt.Errorf("runner: learn the App's identity: %w", err)
	}
	r.botLogin = slug + "[bot]"
	if err := r.recover(ctx); err != nil {
		return fmt.Errorf("runner: recover jobs: %w", err)
	}
	for i := 0; i < r.srv.Workers; i++ {
		r.goSafe(ctx, "worker", func(ctx context.Context) { r.work(ctx) })
	}
	r.goSafe(ctx, "inbox", func(ctx context.Context) { r.drainInbox(ctx) })
	r.goSafe(ctx, "inbox pruner", func(ctx context.Context) { r.pr.PruneLoop(ctx, r.cfg.Store) })
	r.goSafe(ctx, "audit retention", r.trail.PruneLoop)
	// What must run once across replicas runs on the leader (runner/lease.Leader).
	lead := []lease.Task{
		{Name: "reconciler", Run: r.reconcileLoop},
		{Name: "planqueue", Run: r.planQueue.Loop},
	}
	if r.drift.Sweep.Enabled() {
		lead = append(lead, lease.Task{Name: "drift", Run: r.drift.Loop})
	}
	if r.shared() {
		lead = append(lead, lease.Task{Name: "claim pruner", Run: r.leases.PruneDeliveryClaimsLoop})
		if r.drift.Sweep.Enabled() {
			lead = append(lead, lease.Task{Name: "drift signal", Run: r.drift.FollowSignal})
		}
	}
	r.leader.Lead(ctx, lead)
	if r.shared() {
		r.goSafe(ctx, "queue signal", r.leases.SignalLoop)
		r.goSafe(ctx, "queue poll", r.pollQueue)
		r.goSafe(ctx, "rescuer", r.rescueLoop)
	}
	r.started.Store(true)
	r.Notify()
	return nil
}

// Wait blocks until every goroutine Start began has returned.
func (r *Runner) Wait() { r.wg.Wait() }

// Notify wakes the inbox: a delivery was stored. It never blocks.
func (r *Runner) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// goSafe runs fn in a goroutine that survives panics: a panic is logged
// and fn is started again, until ctx ends.
func (r *Runner) goSafe(ctx context.Context, name string, fn func(ctx context.Context)) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for ctx.Err() == nil {
			if r.runProtected(ctx, name, fn) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
}

// runProtected calls fn and reports whether it returned normally.
func (r *Runner) runProtected(ctx context.Context, name string, fn func(ctx context.Context)) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("panic recovered", "in", name, "panic", fmt.Sprint(p))
		}
	}()
	fn(ctx)
	return true
}

// workDir is where a job's worktree goes.
func (r *Runner) workDir(jobID string) string { return filepath.Join(r.cfg.DataDir, "work", jobID) }

// logPath is a job's log file.
func (r *Runner) logPath(jobID string) string {
	return filepath.Join(r.cfg.DataDir, "logs", jobID+".log")
}

// jobURL links a job's page.
func (r *Runner) jobURL(jobID string) string {
	if r.cfg.BaseURL == "" {
		return ""
	}
	return r.cfg.BaseURL + "/jobs/" + jobID
}

func goVersion() string { return runtime.Version() }
