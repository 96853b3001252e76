package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atollhq/atoll/locks"
	"github.com/atollhq/atoll/locks/boltdb"
	"github.com/atollhq/atoll/locks/postgres"
	"github.com/atollhq/atoll/testdrive/pgtest"
)

// The store rows compare atoll's two stores on this machine: bbolt (one
// file, one process) and PostgreSQL (Debian's postgresql 15 in a
// temporary directory, fsync on, as in production; started by pgtest).

// postgresServer starts the bench's PostgreSQL, once, and stops it with
// the returned function.
func (b *bench) postgresServer(ctx context.Context) (*pgtest.Server, error) {
	b.pgOnce.Do(func() {
		b.pg, b.pgErr = pgtest.Start(ctx, pgtest.Options{Durable: true})
	})
	return b.pg, b.pgErr
}

func (b *bench) stopPostgres() {
	if b.pg != nil {
		b.pg.Stop()
	}
}

// s1: jobs claimed per second. Every job is queued, then claimed by a
// conditional update (queued -> running) raced by the workers of two
// replicas, each job offered to two workers at once, as replicas polling
// one queue would: every job must be claimed exactly once.
func (b *bench) s1(ctx context.Context) (Row, error) {
	dir, err := b.dir("s1")
	if err != nil {
		return Row{}, err
	}
	bolt, err := boltdb.Open(filepath.Join(dir, "atoll.db"), boltdb.Options{})
	if err != nil {
		return Row{}, err
	}
	defer bolt.Close()
	boltRate, err := claimRate(ctx, []locks.Store{bolt, bolt}, b.o.S1Jobs, b.o.Workers)
	if err != nil {
		return Row{}, fmt.Errorf("bbolt: %w", err)
	}
	pg, err := b.postgresServer(ctx)
	if err != nil {
		return Row{}, err
	}
	url, err := pg.CreateDatabase(ctx, "s1")
	if err != nil {
		return Row{}, err
	}
	var replicas []locks.Store
	for range 2 {
		db, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			return Row{}, err
		}
		defer db.Close()
		replicas = append(replicas, db)
	}
	pgRate, err := claimRate(ctx, replicas, b.o.S1Jobs, b.o.Workers)
	if err != nil {
		return Row{}, fmt.Errorf("PostgreSQL: %w", err)
	}
	return Row{
		Result:    fmt.Sprintf("PostgreSQL (2 replicas × %d workers): %.0f jobs/s", b.o.Workers, pgRate),
		Reference: fmt.Sprintf("bbolt (1 process, %d workers): %.0f jobs/s", 2*b.o.Workers, boltRate),
		Ratio:     fmt.Sprintf("%.2f×", pgRate/boltRate),
	}, nil
}

var errClaimed = errors.New("claimed by another worker")

// claimRate queues n jobs in stores[0] and returns how many per second
// the workers (perReplica on each store) claim; it fails unless each job
// is claimed exactly once.
func claimRate(ctx context.Context, stores []locks.Store, n, perReplica int) (float64, error) {
	const bucket = "benchjobs"
	for i := range n {
		if err := stores[0].PutRecord(ctx, bucket, fmt.Sprintf("job-%06d", i), []byte(`{"state":"queued"}`)); err != nil {
			return 0, err
		}
	}
	// Each job is offered twice: two workers race for it.
	offers := make(chan string, 2*n)
	for i := range n {
		k := fmt.Sprintf("job-%06d", i)
		offers <- k
		offers <- k
	}
	close(offers)
	var (
		wg      sync.WaitGroup
		claimed atomic.Int64
		errs    = make(chan error, len(stores)*perReplica)
	)
	start := time.Now()
	for _, s := range stores {
		for w := range perReplica {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range offers {
					err := s.UpdateRecord(ctx, bucket, k, func(old []byte, exists bool) ([]byte, error) {
						if !exists || !bytes.Contains(old, []byte(`"queued"`)) {
							return nil, errClaimed
						}
						return []byte(fmt.Sprintf(`{"state":"running","worker":%d}`, w)), nil
					})
					switch {
					case err == nil:
						claimed.Add(1)
					case !errors.Is(err, errClaimed):
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	if c := claimed.Load(); c != int64(n) {
		return 0, fmt.Errorf("%d claims of %d jobs: a job was claimed twice or never", c, n)
	}
	return float64(n) / elapsed.Seconds(), nil
}

// s2: webhook acknowledgement latency with the PostgreSQL store beside
// the same load on bbolt: signed deliveries at a fixed rate, each stored
// (and deduplicated) in the store before the 202.
func (b *bench) s2(ctx context.Context) (Row, error) {
	boltRes, err := b.ackLatency(ctx, "s2-bbolt", nil)
	if err != nil {
		return Row{}, fmt.Errorf("bbolt: %w", err)
	}
	pg, err := b.postgresServer(ctx)
	if err != nil {
		return Row{}, err
	}
	url, err := pg.CreateDatabase(ctx, "s2")
	if err != nil {
		return Row{}, err
	}
	pgRes, err := b.ackLatency(ctx, "s2-postgres", map[string]any{"database": url})
	if err != nil {
		return Row{}, fmt.Errorf("PostgreSQL: %w", err)
	}
	return Row{Result: "PostgreSQL: " + pgRes.String(), Reference: "bbolt: " + boltRes.String(),
		Ratio: ratio(pgRes.p99, boltRes.p99) + " (p99)"}, nil
}

type ackStats struct {
	p50, p99      time.Duration
	sent, refused int
}

func (a ackStats) String() string {
	return fmt.Sprintf("p50 %s, p99 %s; %d sent, %d refused", dur(a.p50), dur(a.p99), a.sent, a.refused)
}

// ackLatency sends S2Rate signed deliveries a second for S2Duration to a
// new server configured with over and returns the acknowledgement
// latencies.
func (b *bench) ackLatency(ctx context.Context, name string, over map[string]any) (ackStats, error) {
	s, done, err := b.stack(ctx, name, over)
	if err != nil {
		return ackStats{}, err
	}
	defer done()
	lat, refused, _ := fire(ctx, s, name, b.o.S2Rate, b.o.S2Duration)
	if strings.TrimSpace(s.a.logText()) == "" {
		return ackStats{}, errors.New("the server logged nothing")
	}
	return ackStats{p50: percentile(lat, 50), p99: percentile(lat, 99), sent: len(lat), refused: refused}, nil
}
