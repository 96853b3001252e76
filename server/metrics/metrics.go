// Package metrics holds atoll's Prometheus collectors and serves them in
// the text exposition format (github.com/prometheus/client_golang).
//
// Consumers do not import this package's types: each declares the one or
// two methods it calls (server's webhook observer, the runner's job
// observer, vcs/github's request observer) and cmd/atoll passes a
// *Metrics. Every label is bounded: event names, outcomes, job kinds,
// terraform commands and exit codes, HTTP status codes. PR numbers,
// commit SHAs, repositories and user names are never labels.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Names of every metric atoll exports, for the README and tests.
const (
	WebhooksReceived   = "atoll_webhooks_received_total"
	WebhookAckSeconds  = "atoll_webhook_ack_seconds"
	JobsFinished       = "atoll_jobs_total"
	JobDurationSeconds = "atoll_job_duration_seconds"
	QueueDepth         = "atoll_queue_depth"
	JobsRunning        = "atoll_jobs_running"
	LocksHeld          = "atoll_locks_held"
	DriftProjects      = "atoll_drift_projects"
	GitHubRequests     = "atoll_github_requests_total"
	GitHubRateLimit    = "atoll_github_rate_limit_remaining"
	TerraformExits     = "atoll_terraform_exits_total"
	SandboxActive      = "atoll_sandbox_active"
)

// Names lists every metric name above.
var Names = []string{WebhooksReceived, WebhookAckSeconds, JobsFinished, JobDurationSeconds, QueueDepth,
	JobsRunning, LocksHeld, DriftProjects, GitHubRequests, GitHubRateLimit, TerraformExits, SandboxActive}

// State is what the engine reports at each scrape: counts read from the
// database, so they are right after a restart too.
type State struct {
	Queued  int
	Running int
	Locks   int
	// Drift counts the projects by their last drift status (drifted,
	// in_sync, error, ...).
	Drift map[string]int
}

// StateFunc reads State; it is called on each scrape with a short timeout.
type StateFunc func(ctx context.Context) (State, error)

// Metrics is atoll's set of collectors. The zero value is not usable:
// create one with New. A nil *Metrics is a valid no-op for every Observe
// and Set method, so tests and tools may leave it out.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	webhooks    *prometheus.CounterVec
	ackLatency  prometheus.Histogram
	jobs        *prometheus.CounterVec
	jobDuration *prometheus.HistogramVec
	ghRequests  *prometheus.CounterVec
	rateLimit   prometheus.Gauge
	tfExits     *prometheus.CounterVec
	sandbox     prometheus.Gauge

	mu    sync.Mutex
	state StateFunc
}

// New returns the collectors, registered with a registry of their own
// along with Go's runtime and process collectors.
func New(log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: log}
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: WebhooksReceived,
		Help: "Webhook deliveries received, by GitHub event (other: events atoll does not handle) and outcome (stored, duplicate, ignored, unsigned, bad_signature, too_large, bad_request, error)."},
		[]string{"event", "outcome"})
	m.ackLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: WebhookAckSeconds,
		Help:    "Time from a webhook request's arrival to atoll's answer (GitHub gives up after 10s).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}})
	m.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: JobsFinished,
		Help: "Jobs finished, by kind (plan, apply, plan_apply, drift) and outcome (succeeded, failed, skipped, interrupted, requeued)."},
		[]string{"kind", "outcome"})
	m.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: JobDurationSeconds,
		Help:    "Run time of finished jobs, by kind.",
		Buckets: []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600}}, []string{"kind"})
	m.ghRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: GitHubRequests,
		Help: "Requests to GitHub's API, by HTTP status (error: no answer)."}, []string{"status"})
	m.rateLimit = prometheus.NewGauge(prometheus.GaugeOpts{Name: GitHubRateLimit,
		Help: "Requests left in GitHub's current rate-limit window, from the last answer's X-RateLimit-Remaining."})
	m.tfExits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: TerraformExits,
		Help: "Terraform (or OpenTofu) runs, by command (init, plan, apply, show, ...) and exit code."}, []string{"command", "code"})
	m.sandbox = prometheus.NewGauge(prometheus.GaugeOpts{Name: SandboxActive,
		Help: "1 when terraform and custom steps run in atoll's sandbox, 0 when not."})
	m.reg.MustRegister(m.webhooks, m.ackLatency, m.jobs, m.jobDuration, m.ghRequests, m.rateLimit, m.tfExits, m.sandbox,
		stateCollector{m}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series that exist before anything happens, so a dashboard shows 0
	// rather than nothing.
	m.webhooks.WithLabelValues("pull_request", "stored")
	m.ghRequests.WithLabelValues("200")
	for _, k := range []string{"plan", "apply", "plan_apply", "drift"} {
		m.jobs.WithLabelValues(k, "succeeded")
		m.jobDuration.WithLabelValues(k)
	}
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{m.log}})
}

// SetState sets the function that reads queue depth, running jobs, locks
// and drift statuses at each scrape.
func (m *Metrics) SetState(f StateFunc) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.state = f
	m.mu.Unlock()
}

// ObserveWebhook counts a delivery and its acknowledgement latency.
func (m *Metrics) ObserveWebhook(event, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(event, outcome).Inc()
	m.ackLatency.Observe(took.Seconds())
}

// ObserveJob counts a finished job and its run time.
func (m *Metrics) ObserveJob(kind, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(kind, outcome).Inc()
	if took > 0 {
		m.jobDuration.WithLabelValues(kind).Observe(took.Seconds())
	}
}

// ObserveGitHubRequest counts an API request by status (0: no answer)
// and records the rate limit left when the answer carried it (remaining
// < 0: not given).
func (m *Metrics) ObserveGitHubRequest(status, remaining int) {
	if m == nil {
		return
	}
	label := "error"
	if status > 0 {
		label = strconv.Itoa(status)
	}
	m.ghRequests.WithLabelValues(label).Inc()
	if remaining >= 0 {
		m.rateLimit.Set(float64(remaining))
	}
}

// ObserveTerraformExit counts a terraform run by command and exit code
// (-1: it did not start or was killed).
func (m *Metrics) ObserveTerraformExit(command string, code int) {
	if m == nil {
		return
	}
	m.tfExits.WithLabelValues(command, strconv.Itoa(code)).Inc()
}

// SetSandboxActive sets atoll_sandbox_active.
func (m *Metrics) SetSandboxActive(active bool) {
	if m == nil {
		return
	}
	v := 0.0
	if active {
		v = 1
	}
	m.sandbox.Set(v)
}

// stateCollector reads State at scrape time.
type stateCollector struct{ m *Metrics }

var (
	queueDesc   = prometheus.NewDesc(QueueDepth, "Jobs queued and waiting for a worker.", nil, nil)
	runningDesc = prometheus.NewDesc(JobsRunning, "Jobs running now.", nil, nil)
	locksDesc   = prometheus.NewDesc(LocksHeld, "Project locks held by pull requests.", nil, nil)
	driftDesc   = prometheus.NewDesc(DriftProjects, "Projects by their last drift check's status.", []string{"status"}, nil)
)

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDesc
	ch <- runningDesc
	ch <- locksDesc
	ch <- driftDesc
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	f := c.m.state
	c.m.mu.Unlock()
	var st State
	if f != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		if st, err = f(ctx); err != nil {
			c.m.log.Warn("metrics: read state", "err", err)
			return
		}
	}
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, float64(st.Running))
	ch <- prometheus.MustNewConstMetric(locksDesc, prometheus.GaugeValue, float64(st.Locks))
	if len(st.Drift) == 0 {
		ch <- prometheus.MustNewConstMetric(driftDesc, prometheus.GaugeValue, 0, "in_sync")
	}
	for status, n := range st.Drift {
		ch <- prometheus.MustNewConstMetric(driftDesc, prometheus.GaugeValue, float64(n), status)
	}
}

// slogPrinter adapts slog to promhttp's error logger.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics: serve", "err", v) }
