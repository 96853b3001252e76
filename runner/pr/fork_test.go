package pr

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atollhq/atoll/runner/records"
	"github.com/atollhq/atoll/vcs"
)

func TestNoteHead(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	l := New(Deps{Records: records.New(openDB(t, c)), Now: c.now})
	pr := vcs.PullRequest{Repo: vcs.Repo{Owner: "acme", Name: "infra"}, Number: 3}
	t0 := c.t.Add(-time.Hour)
	steps := []struct {
		name    string
		sha     string
		updated time.Time
		wantAt  time.Time
		added   bool
	}{
		{"first head, dated by GitHub", "h1", t0, t0, true},
		{"the same head again keeps its first date", "h1", t0.Add(time.Minute), t0, false},
		{"a push", "h2", t0.Add(2 * time.Minute), t0.Add(2 * time.Minute), true},
		{"a force push back to an older head is a new head", "h1", t0.Add(3 * time.Minute), t0.Add(3 * time.Minute), true},
		{"no date from GitHub: atoll's clock", "h3", time.Time{}, c.t, true},
	}
	for _, st := range steps {
		pr.HeadSHA, pr.UpdatedAt = st.sha, st.updated
		got, added, err := l.NoteHead(ctx, pr)
		if err != nil || got.SHA != st.sha || !got.At.Equal(st.wantAt) || added != st.added {
			t.Errorf("%s: %+v added=%v err=%v; want at %v added=%v", st.name, got, added, err, st.wantAt, st.added)
		}
	}
	for i := 0; i < records.MaxHeads+5; i++ {
		pr.HeadSHA = fmt.Sprintf("x%d", i)
		if _, _, err := l.NoteHead(ctx, pr); err != nil {
			t.Fatal(err)
		}
	}
	st, err := l.State(ctx, pr)
	if err != nil || len(st.Heads) != records.MaxHeads || st.Heads[records.MaxHeads-1].SHA != pr.HeadSHA {
		t.Errorf("head history: %d entries, last %+v (err %v); want %d, the newest last", len(st.Heads), st.Heads[len(st.Heads)-1], err, records.MaxHeads)
	}
}
