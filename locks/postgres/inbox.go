package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/atollhq/atoll/locks"
)

// AddDelivery stores a webhook as pending; a second delivery of one id,
// from any replica, finds the first (the primary key on id) and reports
// duplicate. See locks.Inbox.
func (db *DB) AddDelivery(ctx context.Context, id, event string, body []byte) (bool, error) {
	if err := locks.ValidateDeliveryID(id); err != nil {
		return false, fmt.Errorf("locks: add delivery: %w", err)
	}
	op := fmt.Sprintf("add delivery %q", id)
	if err := db.check(ctx, op); err != nil {
		return false, err
	}
	if body == nil {
		body = []byte{}
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO atoll_deliveries (id, event, body, received, state)
		VALUES ($1, $2, $3, $4, 'pending') ON CONFLICT (id) DO NOTHING`,
		[]byte(id), event, body, db.nowUTC())
	if err != nil {
		if invalidInput(err) {
			return false, fmt.Errorf("locks: %s: %v: %w", op, err, locks.ErrInvalid)
		}
		return false, db.wrap(op, err)
	}
	return tag.RowsAffected() == 0, nil
}

const deliveryColumns = `id, event, body, received, state, error, finished`

func scanDelivery(row pgx.Row) (locks.Delivery, error) {
	var (
		d        locks.Delivery
		id       []byte
		finished *time.Time
	)
	if err := row.Scan(&id, &d.Event, &d.Body, &d.Received, &d.State, &d.Error, &finished); err != nil {
		return locks.Delivery{}, err
	}
	d.ID = string(id)
	d.Received = d.Received.UTC()
	if finished != nil {
		d.Finished = finished.UTC()
	}
	return d, nil
}

// PendingDeliveries returns the pending deliveries in arrival order. See
// locks.Inbox.
func (db *DB) PendingDeliveries(ctx context.Context) ([]locks.Delivery, error) {
	const op = "pending deliveries"
	if err := db.check(ctx, op); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM atoll_deliveries
		WHERE state = 'pending' ORDER BY seq`)
	if err != nil {
		return nil, db.wrap(op, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (locks.Delivery, error) { return scanDelivery(row) })
	if err != nil {
		return nil, db.wrap(op, err)
	}
	return out, nil
}

// GetDelivery returns one delivery. See locks.Inbox.
func (db *DB) GetDelivery(ctx context.Context, id string) (locks.Delivery, bool, error) {
	op := fmt.Sprintf("get delivery %q", id)
	if err := db.check(ctx, op); err != nil {
		return locks.Delivery{}, false, err
	}
	if id == "" {
		return locks.Delivery{}, false, nil
	}
	d, err := scanDelivery(db.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM atoll_deliveries WHERE id = $1`, []byte(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return locks.Delivery{}, false, nil
	}
	if err != nil {
		return locks.Delivery{}, false, db.wrap(op, err)
	}
	return d, true, nil
}

// FinishDelivery marks id done or failed. See locks.Inbox.
func (db *DB) FinishDelivery(ctx context.Context, id string, errMsg string) error {
	op := fmt.Sprintf("finish delivery %q", id)
	if err := db.check(ctx, op); err != nil {
		return err
	}
	state := locks.StateDone
	if errMsg != "" {
		state = locks.StateFailed
	}
	tag, err := db.pool.Exec(ctx, `UPDATE atoll_deliveries
		SET state = $2, error = $3, finished = $4, body = CASE WHEN $2 = 'done' THEN NULL ELSE body END
		WHERE id = $1`, []byte(id), state, errMsg, db.nowUTC())
	if err != nil {
		return db.wrap(op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("locks: %s: %w", op, locks.ErrNotFound)
	}
	return nil
}

// PruneDeliveries removes finished deliveries older than olderThan. See
// locks.Inbox.
func (db *DB) PruneDeliveries(ctx context.Context, olderThan time.Time) (int, error) {
	const op = "prune deliveries"
	if err := db.check(ctx, op); err != nil {
		return 0, err
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM atoll_deliveries WHERE state <> 'pending' AND finished < $1`, olderThan.UTC())
	if err != nil {
		return 0, db.wrap(op, err)
	}
	return int(tag.RowsAffected()), nil
}
