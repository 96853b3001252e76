package metrics

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	p := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(body)); err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, body)
	}
	return body
}

// Every documented metric is exposed, with what was observed, and the
// state is read at scrape time.
func TestMetrics(t *testing.T) {
	m := New(nil)
	m.SetState(func(context.Context) (State, error) {
		return State{Queued: 3, Running: 1, Locks: 2, Drift: map[string]int{"drifted": 4}}, nil
	})
	m.ObserveWebhook("push", "stored", 20*time.Millisecond)
	m.ObserveJob("apply", "failed", 90*time.Second)
	m.ObserveGitHubRequest(403, 0)
	m.ObserveGitHubRequest(0, -1)
	m.ObserveTerraformExit("plan", 2)
	m.SetSandboxActive(true)
	body := scrape(t, m)
	for _, want := range []string{
		`atoll_webhooks_received_total{event="push",outcome="stored"} 1`,
		`atoll_webhook_ack_seconds_count 1`,
		`atoll_jobs_total{kind="apply",outcome="failed"} 1`,
		`atoll_job_duration_seconds_bucket{kind="apply",le="120"} 1`,
		`atoll_queue_depth 3`, `atoll_jobs_running 1`, `atoll_locks_held 2`,
		`atoll_drift_projects{status="drifted"} 4`,
		`atoll_github_requests_total{status="403"} 1`, `atoll_github_requests_total{status="error"} 1`,
		`atoll_github_rate_limit_remaining 0`,
		`atoll_terraform_exits_total{code="2",command="plan"} 1`,
		`atoll_sandbox_active 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	for _, name := range Names {
		if !strings.Contains(body, "# TYPE "+name+" ") {
			t.Errorf("exposition lacks %s", name)
		}
	}
}

// A state that cannot be read leaves its gauges out rather than failing
// the scrape; a nil *Metrics ignores every observation.
func TestMetricsDegrade(t *testing.T) {
	m := New(nil)
	m.SetState(func(context.Context) (State, error) { return State{}, errors.New("database closed") })
	if body := scrape(t, m); strings.Contains(body, "atoll_queue_depth ") || !strings.Contains(body, "atoll_jobs_total") {
		t.Errorf("scrape with a broken state:\n%s", body)
	}
	var none *Metrics
	none.ObserveWebhook("push", "stored", time.Second)
	none.ObserveJob("plan", "succeeded", time.Second)
	none.ObserveGitHubRequest(200, 1)
	none.ObserveTerraformExit("plan", 0)
	none.SetSandboxActive(true)
	none.SetState(nil)
}
