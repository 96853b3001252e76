package policy

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// cancelGrace is how long an evaluation may take to notice its cancellation
// (a few built-ins do not check it) before Evaluate stops waiting and
// reports the limit anyway. The evaluation goroutine then finishes on its own.
const cancelGrace = 2 * time.Second

// memoryCheckInterval is how often the memory guard samples the heap.
const memoryCheckInterval = 5 * time.Millisecond

// limitError is the cause given to an evaluation context stopped by a limit.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// outcome is what one evaluation of both decisions produced.
type outcome struct {
	deny, warn []Message
	err        error
}

// evaluate runs both decisions of s on input within the limits of o. It
// returns the messages, or an error text (and no messages).
func (s *compiledSet) evaluate(ctx context.Context, input ast.Value, o Options) (deny, warn []Message, errText string) {
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, o.Timeout, &limitError{
		msg: fmt.Sprintf("policy evaluation timed out after %s (does a rule iterate over a huge collection or recurse deeply?)", o.Timeout),
	})
	defer cancelTimeout()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if o.MaxMemoryBytes > 0 {
		stop := guardMemory(ctx, uint64(o.MaxMemoryBytes), cancel)
		defer stop()
	}

	done := make(chan outcome, 1)
	go func() {
		var out outcome
		for _, d := range s.decisions {
			msgs, err := decide(ctx, d, input)
			if err != nil {
				out = outcome{err: err}
				break
			}
			if d.deny {
				out.deny = append(out.deny, msgs...)
			} else {
				out.warn = append(out.warn, msgs...)
			}
		}
		done <- out
	}()

	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		select {
		case out = <-done:
		case <-time.After(cancelGrace):
			out.err = ctx.Err()
		}
	}
	if out.err != nil {
		return nil, nil, explain(ctx, out.err)
	}
	return out.deny, out.warn, ""
}

// decide evaluates one decision and decodes its messages. An undefined
// decision has no messages.
func decide(ctx context.Context, d decision, input ast.Value) ([]Message, error) {
	query := d.query
	rs, err := d.pq.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return nil, fmt.Errorf("evaluating %s: %w", query, err)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("evaluating %s: unexpected result shape (%d results)", query, len(rs))
	}
	v, ok := rs[0].Expressions[0].Value.(ast.Value)
	if !ok {
		return nil, fmt.Errorf("evaluating %s: unexpected result type %T", query, rs[0].Expressions[0].Value)
	}
	decode := decodeMessages
	if d.conftest {
		decode = decodeDecision
	}
	msgs, err := decode(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", query, err)
	}
	return msgs, nil
}

// explain turns an evaluation error into the text of Result.Err. When the
// context stopped the evaluation, the reason (timeout, memory, caller
// cancellation) replaces OPA's generic "caller cancelled query execution".
func explain(ctx context.Context, err error) string {
	if ctx.Err() == nil {
		return err.Error()
	}
	var le *limitError
	if cause := context.Cause(ctx); errors.As(cause, &le) {
		return le.msg
	}
	return fmt.Sprintf("policy evaluation cancelled: %v", context.Cause(ctx))
}

// guardMemory samples the heap until ctx is done or stop is called, and
// cancels ctx when the live heap has grown by more than limit bytes since
// the start. The live heap is only measured by a garbage collection; when
// the heap (garbage included) has grown by more than limit, the guard forces
// one, at most once per second, so that garbage is not mistaken for growth
// and growth is not noticed late.
func guardMemory(ctx context.Context, limit uint64, cancel context.CancelCauseFunc) (stop func()) {
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	read := func() (live, heap uint64) {
		metrics.Read(samples)
		for i, s := range samples {
			if s.Value.Kind() != metrics.KindUint64 {
				continue
			}
			if i == 0 {
				live = s.Value.Uint64()
			} else {
				heap = s.Value.Uint64()
			}
		}
		return live, heap
	}
	baseLive, baseHeap := read()
	over := func(now, base uint64) bool { return now > base && now-base > limit }

	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(memoryCheckInterval)
		defer t.Stop()
		var lastGC time.Time
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			live, heap := read()
			if !over(heap, baseHeap) && !over(live, baseLive) {
				continue
			}
			if !over(live, baseLive) && time.Since(lastGC) > time.Second {
				runtime.GC()
				lastGC = time.Now()
				live, _ = read()
			}
			if over(live, baseLive) {
				cancel(&limitError{msg: fmt.Sprintf(
					"policy evaluation stopped: memory grew by more than %s (does a rule build a huge collection?)",
					humanBytes(limit))})
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

// humanBytes formats n as MiB when it is a whole number of them.
func humanBytes(n uint64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
