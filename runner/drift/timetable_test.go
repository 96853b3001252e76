package drift

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func noJitter(time.Duration) time.Duration { return 0 }

// The next time of a schedule is computed in UTC (or the CRON_TZ zone)
// from the last check, and a repository fires once when it falls due.
func TestTimetableNextTime(t *testing.T) {
	tests := []struct {
		spec string
		now  string
		want string
	}{
		{"@hourly", "2026-03-02 10:20", "2026-03-02 11:00"},
		{"@daily", "2026-03-02 10:20", "2026-03-03 00:00"},
		{"0 6 * * 1-5", "2026-03-06 07:00", "2026-03-09 06:00"}, // Friday after 6: Monday
		{"*/15 * * * *", "2026-03-02 10:20", "2026-03-02 10:30"},
		{"@every 90m", "2026-03-02 10:00", "2026-03-02 11:30"},
		{"CRON_TZ=Europe/Paris 0 6 * * *", "2026-01-10 12:00", "2026-01-11 05:00"}, // 06:00 in Paris in winter
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			tt := NewTimetable(0, noJitter)
			now := utc(tc.now)
			if errs := tt.Sync(now, map[string]string{"acme/a": tc.spec}, nil); errs != nil {
				t.Fatal(errs)
			}
			want := utc(tc.want)
			if got := tt.Next(); !got.Equal(want) {
				t.Fatalf("next = %s, want %s", got, want)
			}
			if f := tt.Take(want.Add(-time.Second)); len(f) != 0 {
				t.Fatalf("fired before its time: %v", f)
			}
			f := tt.Take(want)
			if len(f) != 1 || f[0].Repo != "acme/a" || !f[0].Due.Equal(want) {
				t.Fatalf("take at due time = %v", f)
			}
			if f := tt.Take(want); len(f) != 0 {
				t.Fatalf("fired twice for one due time: %v", f)
			}
			if !tt.Next().After(want) {
				t.Fatalf("next after firing = %s, not after %s", tt.Next(), want)
			}
		})
	}
}

// Stepping a clock through a day fires a 15-minute schedule 96 times and
// an hourly one 24 times, each at its own times.
func TestTimetableOverADay(t *testing.T) {
	tt := NewTimetable(0, noJitter)
	start := utc("2026-03-02 00:00").Add(-30 * time.Second)
	specs := map[string]string{"acme/fast": "*/15 * * * *", "acme/slow": "@hourly", "acme/off": ""}
	tt.Sync(start, specs, nil)
	count := map[string]int{}
	for now := start; now.Before(start.Add(24 * time.Hour)); now = now.Add(10 * time.Second) {
		for _, f := range tt.Take(now) {
			count[f.Repo]++
			if f.Due.Minute()%15 != 0 || f.Due.Second() != 0 {
				t.Errorf("%s fired for %s", f.Repo, f.Due)
			}
		}
	}
	if count["acme/fast"] != 96 || count["acme/slow"] != 24 || count["acme/off"] != 0 {
		t.Errorf("fires = %v, want fast 96, slow 24, off 0", count)
	}
}

// A check missed while atoll was down runs once when it is back; a
// repository seen for the first time waits for its next scheduled time.
func TestTimetableMissedCheckRunsOnce(t *testing.T) {
	tt := NewTimetable(0, noJitter)
	now := utc("2026-03-05 14:00")
	memory := map[string]time.Time{"acme/known": utc("2026-03-02 06:00")} // three daily checks missed
	tt.Sync(now, map[string]string{"acme/known": "0 6 * * *", "acme/new": "0 6 * * *"}, memory)
	f := tt.Take(now)
	if len(f) != 1 || f[0].Repo != "acme/known" {
		t.Fatalf("take = %v, want one catch-up check of acme/known", f)
	}
	if f := tt.Take(now.Add(time.Hour)); len(f) != 0 {
		t.Fatalf("missed checks fired more than once: %v", f)
	}
	if got, want := tt.Next(), utc("2026-03-06 06:00"); !got.Equal(want) {
		t.Fatalf("next = %s, want %s", got, want)
	}
	if f := tt.Take(utc("2026-03-06 06:00")); len(f) != 2 {
		t.Fatalf("next morning = %v, want both repositories", f)
	}
}

// A repository's own schedule replaces the server's; one turned off or
// gone is forgotten; a schedule that does not parse is reported.
func TestTimetableChangesAndErrors(t *testing.T) {
	tt := NewTimetable(0, noJitter)
	now := utc("2026-03-02 10:20")
	tt.Sync(now, map[string]string{"acme/a": "@daily", "acme/b": "@hourly"}, nil)
	errs := tt.Sync(now, map[string]string{"acme/a": "*/5 * * * *", "acme/b": "", "acme/c": "every day"}, nil)
	if errs["acme/c"] == nil || len(errs) != 1 {
		t.Fatalf("errors = %v, want one for acme/c", errs)
	}
	if got, want := tt.Next(), utc("2026-03-02 10:25"); !got.Equal(want) {
		t.Fatalf("next = %s, want %s (acme/a's new schedule)", got, want)
	}
	for now := now; now.Before(utc("2026-03-02 12:00")); now = now.Add(time.Minute) {
		for _, f := range tt.Take(now) {
			if f.Repo != "acme/a" {
				t.Fatalf("%s fired while off or invalid", f.Repo)
			}
		}
	}
	tt.Sync(now, map[string]string{}, nil)
	if !tt.Next().IsZero() {
		t.Fatal("a repository no longer served is still scheduled")
	}
}

// Jitter delays each repository by a random duration in [0, jitter): never
// before its due time, never after due + jitter.
func TestTimetableJitterBounds(t *testing.T) {
	const jitter = 10 * time.Minute
	var asked []time.Duration
	rnd := func(n time.Duration) time.Duration { return rand.N(n) }
	tt := NewTimetable(jitter, func(n time.Duration) time.Duration {
		asked = append(asked, n)
		return rnd(n)
	})
	now := utc("2026-03-02 10:20")
	specs := map[string]string{}
	for i := range 200 {
		specs[fmt.Sprintf("acme/r%03d", i)] = "@hourly"
	}
	tt.Sync(now, specs, nil)
	due := utc("2026-03-02 11:00")
	spread := map[time.Duration]bool{}
	for _, e := range tt.repos {
		d := e.fireAt.Sub(e.due)
		if !e.due.Equal(due) || d < 0 || d >= jitter {
			t.Fatalf("due %s fires at %s: outside [due, due+%s)", e.due, e.fireAt, jitter)
		}
		spread[d.Truncate(time.Minute)] = true
	}
	if len(spread) < 5 {
		t.Errorf("200 repositories start within %d distinct minutes of a 10m jitter: not spread", len(spread))
	}
	for _, n := range asked {
		if n != jitter {
			t.Fatalf("jitter asked for %s", n)
		}
	}
	fired := 0
	for now := due.Add(-time.Minute); now.Before(due.Add(jitter + time.Minute)); now = now.Add(time.Second) {
		for _, f := range tt.Take(now) {
			fired++
			if now.Before(due) || !now.Before(due.Add(jitter+time.Second)) {
				t.Fatalf("%s fired at %s", f.Repo, now)
			}
		}
	}
	if fired != 200 {
		t.Fatalf("fired %d of 200 repositories in the jitter window", fired)
	}
}
