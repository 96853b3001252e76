package execute

import (
	"context"
	"sync"
)

// afterJob is what a job leaves to do once its outcome is reported:
// cleanup that need not delay the comment.
type afterJob struct {
	mu  sync.Mutex
	fns []func()
}

type afterJobKey struct{}

// WithAfterJob returns a context for one job's body under which
// DeferAfterJob keeps its functions, and run, which calls them, last
// deferred first. The engine calls run once the job's outcome is stored
// and shown.
func WithAfterJob(ctx context.Context) (_ context.Context, run func()) {
	a := &afterJob{}
	return context.WithValue(ctx, afterJobKey{}, a), a.run
}

// DeferAfterJob runs fn once ctx's job has been reported and finished
// (WithAfterJob), or at once when ctx carries no job: the caller's own
// defer then runs it.
func DeferAfterJob(ctx context.Context, fn func()) {
	a, ok := ctx.Value(afterJobKey{}).(*afterJob)
	if !ok {
		fn()
		return
	}
	a.mu.Lock()
	a.fns = append(a.fns, fn)
	a.mu.Unlock()
}

func (a *afterJob) run() {
	a.mu.Lock()
	fns := a.fns
	a.fns = nil
	a.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}
