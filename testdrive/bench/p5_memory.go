package bench

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
)

// p5: the server's resident memory idle, then with locks loaded.
func (b *bench) p5(ctx context.Context) (Row, error) {
	s, done, err := b.stack(ctx, "p5", nil)
	if err != nil {
		return Row{}, err
	}
	defer done()
	time.Sleep(time.Second)
	idle, err := s.a.rssMB()
	if err != nil {
		return Row{}, err
	}
	s.a.stop()
	db, err := boltdb.Open(filepath.Join(s.a.dir, "data", "atoll.db"), boltdb.Options{})
	if err != nil {
		return Row{}, err
	}
	per := max(b.o.P5Locks/max(b.o.P5PRs, 1), 1)
	for i := range b.o.P5Locks {
		pr := i/per + 1
		k := locks.Key{Repo: fmt.Sprintf("acme/r%03d", pr%100), Dir: fmt.Sprintf("p%05d", i), Workspace: "default"}
		o := locks.Owner{Repo: k.Repo, Number: pr, Author: "alice", HeadSHA: fmt.Sprintf("%040x", i), Time: time.Now()}
		if _, _, err := db.TryLock(ctx, k, o); err != nil {
			db.Close()
			return Row{}, err
		}
	}
	if err := db.Close(); err != nil {
		return Row{}, err
	}
	if err := s.a.start(ctx); err != nil {
		return Row{}, err
	}
	// The web UI lists the locks: the server reads them all.
	if resp, err := http.Get(s.a.url + "/"); err == nil {
		resp.Body.Close()
	}
	time.Sleep(time.Second)
	loaded, err := s.a.rssMB()
	if err != nil {
		return Row{}, err
	}
	return Row{Result: fmt.Sprintf("%.1f MB idle; %.1f MB with %d locks of %d PRs, after the web UI listed them", idle, loaded, b.o.P5Locks, b.o.P5PRs)}, nil
}
