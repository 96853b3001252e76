package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/runner"
	"github.com/atollhq/atoll/runner/crashpoint"
	"github.com/atollhq/atoll/testdrive/emulator"
)

// `make chaos` runs TestChaos with -chaos.points 24; `make test` runs its
// short form (5 points). -chaos.seed replays a run: every round's choices
// come from it.
var (
	chaosPoints = flag.Int("chaos.points", 5, "TestChaos: how many times the server is killed")
	chaosSeed   = flag.Uint64("chaos.seed", 0, "TestChaos: the seed of its choices (0: from the clock); printed to replay a run")
)

// chaosScenario is what a round does before and after the kill.
type chaosScenario struct {
	name string
	// points are the crash points the kill may happen at; "" is a random
	// delay after the round's trigger instead.
	points []string
}

var chaosScenarios = []chaosScenario{
	{"plan", []string{crashpoint.OpenCheck, crashpoint.JobClaimed, crashpoint.JobFinishing, ""}},
	{"apply", []string{crashpoint.OpenCheck, crashpoint.JobClaimed, crashpoint.BeforeApply, crashpoint.JobFinishing, "", ""}},
	{"apply after merge", []string{crashpoint.MergeClaimed, crashpoint.OpenCheck, crashpoint.JobClaimed, crashpoint.BeforeApply,
		crashpoint.JobFinishing, crashpoint.LockReleased, "", ""}},
	{"drift", []string{crashpoint.JobClaimed, crashpoint.JobFinishing, ""}},
}

// chaos is one TestChaos run: the env and what the rounds counted.
type chaos struct {
	t    *testing.T
	e    *Env
	repo string
	rng  *rand.Rand

	prs                                     []int
	atPoint, atDelay, notReached, redeliver int
	interrupted, applies, violations        int
}

// TestChaos kills the server (SIGKILL) at random points of plan, apply,
// apply after merge and drift, restarts it, and after each round checks
// that no lock is lost or left behind for a closed PR, that no plan is
// applied twice, that every interrupted job is reported on its PR or
// issue, and that no job is stuck queued or running.
func TestChaos(t *testing.T) {
	seed := *chaosSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	fmt.Printf("chaos: seed %d, %d points (replay: make chaos CHAOS_SEED=%d CHAOS_POINTS=%d)\n", seed, *chaosPoints, seed, *chaosPoints)
	e := Start(t, Options{})
	c := &chaos{t: t, e: e, rng: rand.New(rand.NewPCG(seed, seed^0x5eed))}
	c.repo = e.Repo("chaos", map[string]string{
		"atoll.yaml": "version: 1\napply_mode: both\n",
		// A project of main never applied: every drift check finds it.
		"drifty/main.tf": e.Backend("drifty") + "resource \"terraform_data\" \"d\" {\n  input = \"drift\"\n}\n",
	}, map[string]string{"alice": "write", "bob": "write"})

	start := time.Now()
	for i := 0; i < *chaosPoints; i++ {
		sc := chaosScenarios[c.rng.IntN(len(chaosScenarios))]
		point := sc.points[c.rng.IntN(len(sc.points))]
		delay := time.Duration(c.rng.IntN(6000)) * time.Millisecond
		where := point
		if point == "" {
			where = "a random delay of " + delay.String()
		}
		fmt.Printf("chaos: round %d/%d: %s, killed at %s\n", i+1, *chaosPoints, sc.name, where)
		c.round(i, sc.name, point, delay)
		if t.Failed() {
			t.Fatalf("chaos: round %d broke an invariant; replay with -chaos.seed=%d -chaos.points=%d", i+1, seed, *chaosPoints)
		}
	}
	fmt.Printf("chaos: %d rounds in %s, seed %d: %d kills at crash points (%d not reached, killed after a wait), %d at random delays; "+
		"%d webhooks redelivered after a kill; %d jobs interrupted, each reported; %d applies, none twice; "+
		"locks: none lost, none left behind; jobs stuck: 0; invariants broken: %d\n",
		*chaosPoints, time.Since(start).Round(time.Second), seed, c.atPoint, c.notReached, c.atDelay, c.redeliver,
		c.interrupted, c.applies, c.violations)
}

// round runs one round: setup on a running server, a restart with the
// crash point armed, the trigger, the kill, a restart, the wait for the
// outcome, and the checks on the stopped server's data.
func (c *chaos) round(i int, scenario, point string, delay time.Duration) {
	e, t := c.e, c.t
	project := fmt.Sprintf("p%02d", i)
	line := fmt.Sprintf("r%02d", i)
	files := map[string]*string{project + "/main.tf": S(applyTF(e, project, line))}
	n := 0
	switch scenario {
	case "apply", "apply after merge":
		n = e.PR(c.repo, "round-"+project, "alice", files)
		c.prs = append(c.prs, n)
		e.Wait(c.repo, n, 0, "### atoll plan", "**done**", "Plan: 1 to add")
		if _, err := e.C.Control.Review(e.Ctx(), reviewOf(c.repo, n, "bob")); err != nil {
			t.Fatal(err)
		}
	}

	// The server restarts with the crash point armed.
	e.Stop()
	reached := crashpoint.Reached + point
	seen := strings.Count(e.Log(), reached)
	if point != "" {
		e.AtollEnv = []string{"ATOLL_TEST_CRASHPOINT=" + point}
	}
	e.StartAtoll()
	e.AtollEnv = nil

	var last int64
	driftRun := ""
	switch scenario {
	case "plan":
		n = e.PR(c.repo, "round-"+project, "alice", files)
		c.prs = append(c.prs, n)
	case "apply":
		last = e.Comment(c.repo, n, "alice", "atoll apply")
	case "apply after merge":
		last = e.C.LastCommentID(e.Ctx(), c.repo, n)
		if _, err := e.C.Control.Merge(e.Ctx(), emulator.Merge{Repo: c.repo, Number: n, Author: "alice"}); err != nil {
			t.Fatal(err)
		}
	case "drift":
		id, err := e.C.StartDrift(e.Ctx(), c.repo, "drifty")
		if err != nil {
			t.Fatal(err)
		}
		driftRun = id
	}
	if point == "" {
		c.atDelay++
		time.Sleep(delay)
	} else {
		c.atPoint++
		deadline := time.Now().Add(90 * time.Second)
		for strings.Count(e.Log(), reached) == seen && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if strings.Count(e.Log(), reached) == seen {
			c.notReached++
		}
	}
	e.Kill()
	e.StartAtoll()
	c.redeliverFailed()

	// The outcome the round waits for: a run's comment done, or the drift
	// run done.
	switch scenario {
	case "plan":
		cm := e.Wait(c.repo, n, 0, "### atoll plan", "**done**")
		if strings.Contains(cm.Body, "Interrupted") {
			l := e.Comment(c.repo, n, "alice", "atoll plan")
			e.Wait(c.repo, n, l, "### atoll plan", "**done**", "Plan: 1 to add") // re-plannable
		}
	case "apply", "apply after merge":
		e.Wait(c.repo, n, last, "### atoll apply", "**done**")
	case "drift":
		if _, err := e.C.WaitDrift(e.Ctx(), driftRun, 3*time.Minute); err != nil {
			t.Fatalf("drift run %s: %v", driftRun, err)
		}
	}
	time.Sleep(2 * time.Second) // what follows the outcome (lock releases, labels)
	e.Stop()
	c.check()
	e.StartAtoll()
}

// redeliverFailed redelivers every webhook the killed server never
// acknowledged, as an operator does from the App's settings: GitHub does
// not retry them by itself.
func (c *chaos) redeliverFailed() {
	ctx := c.e.Ctx()
	if err := c.e.C.Control.FlushDeliveries(ctx); err != nil {
		c.t.Fatal(err)
	}
	dels, err := c.e.C.Control.Deliveries(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, d := range dels {
		if d.StatusCode < 200 || d.StatusCode > 299 {
			if _, err := c.e.C.Control.Redeliver(ctx, d.ID); err != nil {
				c.t.Fatal(err)
			}
			c.redeliver++
		}
	}
}

// check reads the stopped server's data and GitHub, and reports every
// broken invariant.
func (c *chaos) check() {
	t, e := c.t, c.e
	ctx := context.Background()
	db, err := boltdb.Open(filepath.Join(e.Dir, "atoll", "atoll.db"), boltdb.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	broken := func(format string, args ...any) {
		c.violations++
		t.Errorf("chaos: "+format, args...)
	}
	jobs := chaosRecords[runner.Job](t, db, "jobs")
	comments := map[int]string{}
	bodies := func(n int) string {
		if _, ok := comments[n]; !ok {
			var b strings.Builder
			for _, cm := range e.BotComments(c.repo, n) {
				b.WriteString(cm.Body)
			}
			comments[n] = b.String()
		}
		return comments[n]
	}
	c.interrupted = 0
	for _, j := range jobs {
		switch {
		case j.State == runner.JobQueued || j.State == runner.JobRunning:
			broken("job %s (%s of %s on #%d) is stuck %s", j.ID, j.Kind, j.Project.Name, j.Number, j.State)
		case j.State == runner.JobInterrupted:
			c.interrupted++
			if j.Number > 0 && j.Kind != runner.JobDrift && !strings.Contains(bodies(j.Number), "Interrupted") {
				broken("job %s (%s of %s) was interrupted and #%d was not told", j.ID, j.Kind, j.Project.Name, j.Number)
			}
		}
	}

	// Locks: none held for a closed PR, none held after its project's
	// apply after merge succeeded; a planned, unapplied plan of an open PR
	// keeps its lock.
	held, err := db.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holder := map[string]int{}
	for _, l := range held {
		holder[l.Key.Dir] = l.Owner.Number
		pr, err := e.C.PullRequest(e.Ctx(), c.repo, l.Owner.Number)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case pr.GetState() == "closed" && !pr.GetMerged():
			broken("the lock of %s is left behind for #%d, closed", l.Key.Dir, l.Owner.Number)
		case pr.GetMerged() && chaosApplied(jobs, l.Owner.Number, l.Key.Dir):
			broken("the lock of %s is left behind for #%d, merged and applied", l.Key.Dir, l.Owner.Number)
		}
	}
	for _, p := range chaosRecords[runner.Plan](t, db, "plans") {
		if p.State != runner.PlanPlanned || !p.HasChanges {
			continue
		}
		pr, err := e.C.PullRequest(e.Ctx(), c.repo, p.Number)
		if err != nil {
			t.Fatal(err)
		}
		if pr.GetState() == "open" && holder[p.Project.Dir] != p.Number {
			broken("#%d's plan of %s waits for an apply but its lock is lost (held by #%d)", p.Number, p.Project.Dir, holder[p.Project.Dir])
		}
	}

	// Applies: each round's line at most once in its project's file.
	c.applies = 0
	files, _ := filepath.Glob(filepath.Join(e.Dir, "applied-*"))
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, l := range strings.Fields(string(data)) {
			count[l]++
			c.applies++
			if count[l] == 2 {
				broken("%s: the plan %s was applied twice", filepath.Base(f), l)
			}
		}
	}
}

// chaosApplied reports whether a PR's project dir has an apply job that
// applied.
func chaosApplied(jobs []runner.Job, number int, dir string) bool {
	for _, j := range jobs {
		if j.Number == number && j.Project.Dir == dir && (j.Kind == runner.JobApply || j.Kind == runner.JobPlanApply) &&
			j.Outcome.Status == "applied" {
			return true
		}
	}
	return false
}

// chaosRecords decodes a bucket of the runner's records.
func chaosRecords[T any](t *testing.T, db *boltdb.DB, bucket string) []T {
	t.Helper()
	recs, err := db.ListRecords(context.Background(), bucket, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, r := range recs {
		var v T
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("%s/%s: %v", bucket, r.Key, err)
		}
		out = append(out, v)
	}
	return out
}
