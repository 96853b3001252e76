package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/testdrive"
	"github.com/atollhq/atoll/testdrive/emulator"
	"github.com/atollhq/atoll/testdrive/pgtest"
)

// replicaLease is the job_lease of the replica tests: short, so that a
// dead replica's work is taken over in seconds.
const replicaLease = 3 * time.Second

// replicaSet is N atoll servers (real binaries, each its own process,
// data dir and port) on one PostgreSQL database, behind one emulator that
// spreads webhook deliveries over them round-robin, as a load balancer
// would.
type replicaSet struct {
	*Env
	nodes []*replica
}

// replica is one atoll server of a replicaSet.
type replica struct {
	t      *testing.T
	name   string
	url    string
	config string
	env    []string
	proc   testdrive.Process
}

// startReplicas starts n replicas with overlay merged over the harness's
// server config and env added to each one's environment.
func startReplicas(t *testing.T, n int, overlay string, env ...string) *replicaSet {
	t.Helper()
	db := pgtest.Database(t)
	e := Start(t, Options{NoStart: true,
		ServerConfig: fmt.Sprintf("database: %q\njob_lease: %s\n%s", db, replicaLease, overlay)})
	data, err := os.ReadFile(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	rs := &replicaSet{Env: e}
	var hooks []string
	for i := range n {
		var cfg map[string]any
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			t.Fatal(err)
		}
		listen := freeAddr(t)
		cfg["listen"], cfg["url"] = listen, "http://"+listen
		cfg["data_dir"] = filepath.Join(e.Private, fmt.Sprintf("replica-%d", i+1))
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(e.Private, fmt.Sprintf("server-%d.yaml", i+1))
		if err := os.WriteFile(path, out, 0o600); err != nil {
			t.Fatal(err)
		}
		r := &replica{t: t, name: fmt.Sprintf("replica %d", i+1), url: "http://" + listen, config: path, env: env}
		rs.nodes = append(rs.nodes, r)
		hooks = append(hooks, r.url+"/events")
	}
	e.Emu.SetWebhookURLs(hooks...)
	e.AtollURL = rs.nodes[0].url
	if e.C, err = testdrive.NewClient(e.GitHub.URL, e.AtollURL, e.Token); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, r := range rs.nodes {
			r.signal(syscall.SIGTERM)
			if t.Failed() {
				t.Logf("%s's log:\n%s", r.name, r.Log())
			}
		}
	})
	for _, r := range rs.nodes {
		r.start()
	}
	return rs
}

// start starts the replica and waits until it answers.
func (r *replica) start() {
	r.t.Helper()
	runAtoll(r.t, &r.proc, r.name, r.config, r.url, r.env)
}

// kill kills the replica with SIGKILL, as a lost node would go.
func (r *replica) kill() { r.signal(syscall.SIGKILL) }

func (r *replica) signal(sig syscall.Signal) { stopAtoll(&r.proc, sig) }

// Log is what the replica printed so far.
func (r *replica) Log() string { return r.proc.Log() }

// jobsStarted counts the replica's "job started" log lines of a kind.
func (r *replica) jobsStarted(kind string) int {
	n := 0
	for _, line := range strings.Split(r.Log(), "\n") {
		if strings.Contains(line, `msg="job started"`) && strings.Contains(line, "kind="+kind+" ") {
			n++
		}
	}
	return n
}

// waitAny waits until one replica's log holds sub and returns it.
func (rs *replicaSet) waitAny(sub string) *replica {
	rs.t.Helper()
	var found *replica
	rs.Eventually("a replica's log to show "+sub, func() bool {
		for _, r := range rs.nodes {
			if strings.Contains(r.Log(), sub) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// Three replicas on one PostgreSQL: thirty pull requests, their webhooks
// spread over the replicas, are each planned exactly once, and every
// replica takes a share of the plans.
func TestReplicasPlanEachPROnce(t *testing.T) {
	rs := startReplicas(t, 3, "")
	const prs = 30
	files := map[string]string{}
	for i := range prs {
		p := fmt.Sprintf("p%02d", i)
		files[p+"/main.tf"] = rs.Backend(p)
	}
	repo := rs.Repo("spread", files, map[string]string{"alice": "write"})
	var numbers []int
	for i := range prs {
		p := fmt.Sprintf("p%02d", i)
		numbers = append(numbers, rs.PR(repo, "change-"+p, "alice", map[string]*string{p + "/main.tf": S(applyTF(rs.Env, p, "v1"))}))
	}
	for _, n := range numbers {
		cm := rs.Wait(repo, n, 0, "**done**: 1 planned")
		applyWant(t, cm.Body, "Plan: 1 to add, 0 to change, 0 to destroy.")
	}
	for _, n := range numbers {
		if got := len(rs.BotComments(repo, n)); got != 1 {
			t.Errorf("PR #%d has %d atoll comments, want its one plan comment", n, got)
		}
	}
	total := 0
	for _, r := range rs.nodes {
		got := r.jobsStarted("plan")
		total += got
		if got == 0 {
			t.Errorf("%s ran no plan: the work did not spread", r.name)
		}
	}
	if total != prs {
		t.Errorf("%d plans ran across the replicas, want %d (each PR once)", total, prs)
	}
}

// Twenty `atoll apply` comments at once, their webhooks spread over three
// replicas: the plan is applied once, and the nineteen others are told.
func TestReplicasApplyOnce(t *testing.T) {
	rs := startReplicas(t, 3, "")
	repo := rs.Repo("race", map[string]string{"app/main.tf": rs.Backend("app")},
		map[string]string{"alice": "write", "bob": "write"})
	n := rs.PR(repo, "change", "alice", map[string]*string{"app/main.tf": S(applyTF(rs.Env, "app", "v1"))})
	rs.Wait(repo, n, 0, "**done**: 1 planned")
	ctx := rs.Ctx()
	if _, err := rs.C.Control.Review(ctx, reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last := rs.C.LastCommentID(ctx, repo, n)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := rs.C.Control.Comment(ctx, emulator.Comment{Repo: repo, Number: n, Author: "alice", Body: "atoll apply"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	cm := rs.Wait(repo, n, last, "### atoll apply", "**done**")
	applyWant(t, cm.Body, "**done**: 1 applied", "Apply complete!")
	var applies, replies int
	rs.Eventually("a reply to each of the 19 other apply comments", func() bool {
		applies, replies = 0, 0
		for _, c := range rs.BotComments(repo, n) {
			switch {
			case c.ID <= last:
			case strings.Contains(c.Body, "### atoll apply"):
				applies++
			case strings.Contains(c.Body, "already running or done"):
				replies++
			}
		}
		return replies >= 19
	})
	if applies != 1 || replies != 19 {
		var bodies []string
		all, _ := rs.C.Comments(rs.Ctx(), repo, n)
		for _, c := range all {
			b := c.Body
			if len(b) > 90 {
				b = b[:90]
			}
			bodies = append(bodies, fmt.Sprintf("%d %s: %q", c.ID, c.Author, b))
		}
		t.Errorf("%d apply comments and %d replies, want 1 and 19:\n%s", applies, replies, strings.Join(bodies, "\n----\n"))
	}
	if got := applyLines(t, applyCountFile(rs.Env, "app")); len(got) != 1 {
		t.Fatalf("the plan was applied %d times across the replicas, want once", len(got))
	}
	ran := 0
	for _, r := range rs.nodes {
		ran += r.jobsStarted("apply")
	}
	if ran != 1 {
		t.Errorf("%d apply jobs ran across the replicas, want 1", ran)
	}
}

// SIGKILL of the replica running a plan: once its lease has expired,
// another replica runs the plan, and the comment is complete.
func TestReplicasKillDuringPlan(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	// Every replica stops at its first claimed job until release exists:
	// the test kills the one that claimed the plan, then lets the others go.
	rs := startReplicas(t, 3, "", "ATOLL_TEST_CRASHPOINT="+crashpoint.JobClaimed, "ATOLL_TEST_CRASHPOINT_RELEASE="+release)
	repo := rs.Repo("killplan", map[string]string{"app/main.tf": rs.Backend("app")}, map[string]string{"alice": "write"})
	n := rs.PR(repo, "change", "alice", map[string]*string{"app/main.tf": S(applyTF(rs.Env, "app", "v1"))})
	holder := rs.waitAny(crashpoint.Reached + crashpoint.JobClaimed)
	holder.kill()
	killed := time.Now()
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cm := rs.Wait(repo, n, 0, "**done**: 1 planned")
	applyWant(t, cm.Body, "Plan: 1 to add, 0 to change, 0 to destroy.")
	applyNot(t, cm.Body, "Interrupted", "interrupted")
	if took := time.Since(killed); took > 4*replicaLease+30*time.Second {
		t.Errorf("the plan was finished %s after its replica died; the lease is %s", took, replicaLease)
	}
	others := 0
	for _, r := range rs.nodes {
		if r != holder {
			others += r.jobsStarted("plan")
		}
	}
	if others != 1 {
		t.Errorf("the other replicas ran the plan %d times, want once", others)
	}
	if err := rs.findLogAny("job taken over"); err != nil {
		t.Error(err)
	}
}

// SIGKILL of the replica running an apply: once its lease has expired,
// the apply is reported interrupted on the pull request, and it is never
// run again, by another replica or a later comment.
func TestReplicasKillDuringApply(t *testing.T) {
	rs := startReplicas(t, 3, "")
	repo := rs.Repo("killapply", map[string]string{"app/main.tf": rs.Backend("app")},
		map[string]string{"alice": "write", "bob": "write"})
	started := filepath.Join(rs.Dir, "apply-started")
	slow := rs.Backend("app") + fmt.Sprintf(`
resource "terraform_data" "x" {
  input = "v1"
  provisioner "local-exec" {
    command = "echo $$ > '%s'; sleep 300; echo v1 >> '%s'"
  }
}
`, started, applyCountFile(rs.Env, "app"))
	t.Cleanup(func() { applyKillGroupOf(started) })
	n := rs.PR(repo, "slow", "alice", map[string]*string{"app/main.tf": S(slow)})
	rs.Wait(repo, n, 0, "Plan: 1 to add, 0 to change, 0 to destroy.")
	if _, err := rs.C.Control.Review(rs.Ctx(), reviewOf(repo, n, "bob")); err != nil {
		t.Fatal(err)
	}
	last := rs.Comment(repo, n, "alice", "atoll apply")
	rs.Eventually("the apply's provisioner started", func() bool {
		data, err := os.ReadFile(started)
		return err == nil && strings.TrimSpace(string(data)) != ""
	})
	var holder *replica
	for _, r := range rs.nodes {
		if r.jobsStarted("apply") > 0 {
			holder = r
		}
	}
	if holder == nil {
		t.Fatal("no replica logged the apply job's start")
	}
	holder.kill()
	applyKillGroupOf(started) // the node went down with it

	cm := rs.Wait(repo, n, last, "### atoll apply", "Interrupted")
	applyWant(t, cm.Body, "partly", "`atoll plan`")
	applyWaitCheck(rs.Env, repo, rs.Head(repo, n), "atoll/apply: app", "failure")

	// A later comment does not apply it again either.
	last = rs.Comment(repo, n, "alice", "atoll apply")
	cm = rs.Wait(repo, n, last, "interrupted")
	applyNot(t, cm.Body, "Apply complete!")
	time.Sleep(2 * replicaLease) // time for a wrong takeover to show
	for _, r := range rs.nodes {
		if r != holder && r.jobsStarted("apply") > 0 {
			t.Errorf("%s ran the interrupted apply again", r.name)
		}
	}
	if got := applyLines(t, applyCountFile(rs.Env, "app")); len(got) != 0 {
		t.Fatalf("the interrupted apply was finished after all: %q", got)
	}
}

// The drift scheduler fires once per tick across replicas, also across a
// change of leader: the leader is killed after the first tick, and the
// next tick is fired once, by the new leader.
func TestReplicasDriftOncePerTick(t *testing.T) {
	rs := startReplicas(t, 3, "drift:\n  enabled: true\n  schedule: \"* * * * *\"\n  jitter: 0s\n")
	rs.Repo("driftha", map[string]string{"app/main.tf": rs.Backend("app") + "\nresource \"terraform_data\" \"x\" {\n  input = \"v1\"\n}\n"}, nil)
	fired := regexp.MustCompile(`msg="drift: scheduled check" repo=acme/driftha .*due=(\S+)`)
	dues := func() map[string]int {
		out := map[string]int{}
		for _, r := range rs.nodes {
			for _, m := range fired.FindAllStringSubmatch(r.Log(), -1) {
				out[m[1]]++
			}
		}
		return out
	}
	deadline := time.Now().Add(100 * time.Second)
	for len(dues()) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no scheduled drift check within 100s of an every-minute schedule")
		}
		time.Sleep(time.Second)
	}
	var leader *replica
	for _, r := range rs.nodes {
		if fired.MatchString(r.Log()) {
			leader = r
		}
	}
	leader.kill()
	deadline = time.Now().Add(100 * time.Second)
	for len(dues()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled drift check after the leader died: %v", dues())
		}
		time.Sleep(time.Second)
	}
	time.Sleep(2 * replicaLease) // a second firing of a tick would show by now
	for due, n := range dues() {
		if n != 1 {
			t.Errorf("the tick due %s fired %d times across the replicas, want once", due, n)
		}
	}
	if n := len(fired.FindAllString(leader.Log(), -1)); n != 1 {
		t.Errorf("the killed leader's log shows %d scheduled checks, want the first only", n)
	}
}

// findLogAny reports an error unless some replica's log holds sub.
func (rs *replicaSet) findLogAny(sub string) error {
	for _, r := range rs.nodes {
		if strings.Contains(r.Log(), sub) {
			return nil
		}
	}
	return fmt.Errorf("no replica's log shows %q", sub)
}
