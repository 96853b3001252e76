package execute

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestClockLogsEachStepAtDebug(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := WithClock(context.Background(), NewClock(log, time.Now().Add(-time.Second), "job", "j1"))
	Mark(ctx, "checkout")
	Mark(ctx, "terraform plan")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", buf.String())
	}
	for i, step := range []string{"step=checkout", `step="terraform plan"`} {
		for _, want := range []string{`msg="job step"`, step, "took=", "at=", "job=j1"} {
			if !strings.Contains(lines[i], want) {
				t.Errorf("line %d %q lacks %q", i, lines[i], want)
			}
		}
	}
	if !strings.Contains(lines[0], "at=1") {
		t.Errorf("the first step is timed from the clock's start: %q", lines[0])
	}

	buf.Reset()
	info := slog.New(slog.NewTextHandler(&buf, nil))
	Mark(WithClock(context.Background(), NewClock(info, time.Now())), "quiet")
	Mark(context.Background(), "no clock")
	var nilClock *Clock
	nilClock.Mark("nil")
	if buf.Len() != 0 {
		t.Errorf("logged above debug or without a clock: %q", buf.String())
	}
}
