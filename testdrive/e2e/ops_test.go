package e2e

// Operating atoll: metrics, readiness, and a graceful SIGTERM.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/atollhq/atoll/server/metrics"
)

// After a plan, /metrics (on metrics_listen, not the main port) parses
// with Prometheus's text parser and holds every metric atoll documents;
// /readyz is 200, then 503 naming GitHub once the emulator stops.
func TestOpsMetricsAndReadyz(t *testing.T) {
	metricsAddr := freeAddr(t)
	e := Start(t, Options{ServerConfig: fmt.Sprintf("metrics_listen: %s\nready_github_window: 2s\nlog_format: json\n", metricsAddr)})
	repo := e.Repo("ops", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write"})
	n := e.PR(repo, "change", "alice", map[string]*string{"app/main.tf": S(e.Backend("app") + "resource \"terraform_data\" \"x\" {}\n")})
	e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")

	resp, err := http.Get(e.AtollURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the main port with metrics_listen set: %d, want 404", resp.StatusCode)
	}
	var families map[string]*dtoFamily
	e.Eventually("the plan's job is counted", func() bool {
		families = scrape(t, "http://"+metricsAddr+"/metrics")
		return families[metrics.JobsFinished] != nil && strings.Contains(families[metrics.JobsFinished].text, `kind="plan",outcome="succeeded"} 1`)
	})
	for _, name := range metrics.Names {
		if families[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for name, want := range map[string]string{
		metrics.WebhooksReceived: `event="pull_request",outcome="stored"`,
		metrics.TerraformExits:   `code="0",command="init"`,
		metrics.LocksHeld:        `atoll_locks_held 1`,
		metrics.GitHubRequests:   `status="201"`,
	} {
		if f := families[name]; f == nil || !strings.Contains(f.text, want) {
			t.Errorf("%s lacks %s:\n%v", name, want, f)
		}
	}
	for _, bad := range []string{repo, e.Head(repo, n), "alice", `pr="`, `number="`, `repo="`, `sha="`, `user="`} {
		for name, f := range families {
			if strings.HasPrefix(name, "atoll_") && strings.Contains(f.text, bad) {
				t.Errorf("%s has the unbounded label value %q:\n%s", name, bad, f.text)
			}
		}
	}

	e.Eventually("/readyz is 200", func() bool { code, _ := readyz(e); return code == http.StatusOK })
	e.GitHub.CloseClientConnections()
	e.GitHub.Listener.Close()
	e.Eventually("/readyz is 503 naming github", func() bool {
		code, body := readyz(e)
		return code == http.StatusServiceUnavailable && body["github"] != "" && body["database"] == ""
	})
	if log := e.Log(); !strings.Contains(log, `"request_id":"`) || !strings.Contains(log, `"project":"app"`) {
		t.Errorf("JSON log lacks request ids or job fields:\n%s", log)
	}
}

// SIGTERM during a plan: atoll exits promptly, and after the restart the
// plan completes. SIGTERM during an apply: the apply finishes before atoll
// exits.
func TestOpsGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	gate, started := filepath.Join(dir, "gate"), filepath.Join(dir, "started")
	wrapper := planwfSlowTerraform(t, gate, started)
	e := Start(t, Options{ServerConfig: fmt.Sprintf("terraform:\n  binary: %s\napply_requirements: []\n", wrapper) + shimSandbox(t, dir)})
	repo := e.Repo("sigterm", map[string]string{"app/main.tf": e.Backend("app")}, map[string]string{"alice": "write"})
	applyStarted := filepath.Join(dir, "apply-started")
	slow := e.Backend("app") + fmt.Sprintf(`
resource "terraform_data" "x" {
  input = "v1"
  provisioner "local-exec" {
    command = "echo $$ > '%s'; sleep 4; echo v1 >> '%s'"
  }
}
`, applyStarted, applyCountFile(e, "app"))
	t.Cleanup(func() { applyKillGroupOf(applyStarted) })

	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n := e.PR(repo, "slow", "alice", map[string]*string{"app/main.tf": S(slow)})
	e.Eventually("terraform plan started", func() bool { _, err := os.Stat(started); return err == nil })
	begin := time.Now()
	e.Stop()
	if took := time.Since(begin); took > 20*time.Second {
		t.Errorf("SIGTERM during a plan took %s to exit", took)
	}
	if log := e.Log(); !strings.Contains(log, "queued again") {
		t.Errorf("atoll's log does not say the plan was queued again:\n%s", log)
	}
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	e.StartAtoll()
	cm := e.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.", "**done**")
	if strings.Contains(cm.Body, "nterrupted") {
		t.Errorf("the plan resumed after SIGTERM is reported interrupted:\n%s", cm.Body)
	}

	last := e.Comment(repo, n, "alice", "atoll apply")
	e.Eventually("the apply's provisioner started", func() bool {
		data, err := os.ReadFile(applyStarted)
		return err == nil && strings.TrimSpace(string(data)) != ""
	})
	e.Stop()
	if got := applyLines(t, applyCountFile(e, "app")); len(got) != 1 {
		t.Fatalf("after SIGTERM during an apply, the apply ran %d times before exit, want 1 (finished)", len(got))
	}
	e.StartAtoll()
	cm = e.Wait(repo, n, last, "### atoll apply", "**done**")
	applyWant(t, cm.Body, "Apply complete!")
	applyNot(t, cm.Body, "nterrupted")
}

type dtoFamily struct{ text string }

// scrape reads url's metrics with Prometheus's own text parser and keeps
// each family's exposition text for label checks.
func scrape(t *testing.T, url string) map[string]*dtoFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	out := map[string]*dtoFamily{}
	for name := range fams {
		f := &dtoFamily{}
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, name) {
				f.text += line + "\n"
			}
		}
		out[name] = f
	}
	return out
}

// readyz is GET /readyz's status and its not_ready map.
func readyz(e *Env) (int, map[string]string) {
	resp, err := http.Get(e.AtollURL + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body struct {
		NotReady map[string]string `json:"not_ready"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.NotReady
}
