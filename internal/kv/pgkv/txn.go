package pgkv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ferryfs/ferry/internal/kv"
)

const (
	sqlBeginRW = "BEGIN ISOLATION LEVEL SERIALIZABLE"
	sqlBeginRO = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	sqlGet     = "SELECT v FROM " + Table + " WHERE k = $1"
	sqlGetMany = "SELECT k, v FROM " + Table + " WHERE k = ANY($1::bytea[])"
	sqlScan    = "SELECT k, v FROM " + Table + " WHERE k >= $1 ORDER BY k LIMIT $2"
	sqlScanTo  = "SELECT k, v FROM " + Table + " WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3"
	sqlPut     = "INSERT INTO " + Table + " (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) " +
		"ON CONFLICT (k) DO UPDATE SET v = excluded.v"
	sqlDel = "DELETE FROM " + Table + " WHERE k = ANY($1::bytea[])"
)

// Retries of a conflicting Update: at most maxAttempts runs, sleeping a
// random time up to a bound that doubles from minBackoff to maxBackoff.
const (
	maxAttempts = 64
	minBackoff  = time.Millisecond
	maxBackoff  = 200 * time.Millisecond
)

// View implements kv.Store on a REPEATABLE READ, READ ONLY transaction:
// a snapshot taken at its first read.
func (s *Store) View(ctx context.Context, fn func(kv.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.gate.Enter() {
		return kv.ErrClosed
	}
	defer s.gate.Leave()
	t, err := s.newTxn(ctx, sqlBeginRO)
	if err != nil {
		return err
	}
	defer t.finish()
	if err := fn(t); err != nil {
		return err
	}
	// No COMMIT: finish parks the connection, and the next transaction
	// on it ends this one (park.go).
	return t.err
}

// Update implements kv.Store on a SERIALIZABLE transaction, run again
// after serialization failures and deadlocks.
func (s *Store) Update(ctx context.Context, fn func(kv.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.gate.Enter() {
		return kv.ErrClosed
	}
	defer s.gate.Leave()
	bound := minBackoff
	for attempt := 1; ; attempt++ {
		err := s.tryUpdate(ctx, fn)
		if !retryable(err) {
			return err
		}
		if attempt == maxAttempts {
			return fmt.Errorf("pgkv: update %s: %w after %d attempts: %s", s.where, kv.ErrConflict, attempt, firstLine(err))
		}
		s.stats.Retries.Add(1)
		s.log.Debug("transaction conflict: retrying", "attempt", attempt, "err", firstLine(err))
		timer := time.NewTimer(rand.N(bound) + 1)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
		bound = min(2*bound, maxBackoff)
	}
}

// tryUpdate runs fn once. A read that failed makes the run fail with that
// error, whatever fn made of it, so that a conflict met by a read is
// retried; otherwise fn's own error is returned unchanged.
func (s *Store) tryUpdate(ctx context.Context, fn func(kv.Txn) error) error {
	t, err := s.newTxn(ctx, sqlBeginRW)
	if err != nil {
		return err
	}
	defer t.finish()
	ferr := fn(t)
	if t.err != nil && (ferr == nil || retryable(t.err)) {
		return t.err
	}
	if ferr != nil {
		return ferr
	}
	return t.commit()
}

// entry is a value the transaction wrote or read; del marks a delete or a
// missing key.
type entry struct {
	v   []byte
	del bool
}

// txn is one transaction on one pooled connection. BEGIN is sent with the
// first statement; writes wait in a buffer until a Scan or the commit.
type txn struct {
	s      *Store
	ctx    context.Context
	c      *pgxpool.Conn
	begin  string
	stale  bool             // the connection has a parked View to end first
	since  time.Time        // when that View was parked
	open   bool             // BEGIN was sent
	done   bool             // COMMIT succeeded
	writes map[string]entry // every write of the transaction
	dirty  map[string]bool  // writes not sent yet
	reads  map[string]entry // rows read from the server
	err    error            // the first failure; the transaction is lost
}

func (s *Store) newTxn(ctx context.Context, begin string) (*txn, error) {
	if p, ok := s.unpark(); ok {
		return &txn{s: s, ctx: ctx, c: p.c, begin: begin, stale: true, since: p.since}, nil
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, s.errorf("connect", err)
	}
	return &txn{s: s, ctx: ctx, c: c, begin: begin}, nil
}

// finish ends the transaction and gives the connection back: a View that
// met no error is parked with its transaction open (park.go); anything
// else that did not commit is rolled back and returned to the pool.
func (t *txn) finish() {
	switch {
	case t.err != nil:
	case t.stale: // nothing was sent: the parked View is still open
		if t.s.park(parked{c: t.c, since: t.since}) {
			return
		}
		t.open = true
	case t.open && !t.done && t.begin == sqlBeginRO:
		if t.s.park(parked{c: t.c, since: time.Now()}) {
			return
		}
	}
	if t.open && !t.done {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := t.c.Exec(ctx, "ROLLBACK"); err != nil {
			// The pool drops a connection left inside a transaction.
			t.s.log.Debug("rollback failed", "err", firstLine(err))
		}
		cancel()
	}
	t.c.Release()
}

func (t *txn) fail(op string, err error) error {
	if t.err == nil {
		t.err = t.s.errorf(op, err)
	}
	return t.err
}

// batch starts a batch: BEGIN first if it was not sent yet, then the
// buffered writes. It returns how many results precede the caller's own.
func (t *txn) batch(b *pgx.Batch) int {
	n := 0
	if t.stale {
		b.Queue("ROLLBACK")
		t.stale = false
		n++
	}
	if !t.open {
		b.Queue(t.begin)
		t.open = true
		n++
	}
	if len(t.dirty) == 0 {
		return n
	}
	var pk, pv, dk [][]byte
	for k := range t.dirty {
		if e := t.writes[k]; e.del {
			dk = append(dk, []byte(k))
		} else {
			pk, pv = append(pk, []byte(k)), append(pv, e.v)
		}
	}
	clear(t.dirty)
	if len(pk) > 0 {
		b.Queue(sqlPut, pk, pv)
		n++
	}
	if len(dk) > 0 {
		b.Queue(sqlDel, dk)
		n++
	}
	return n
}

// send sends b and checks the first skip results, which are statements
// without rows; the caller reads the rest and closes the results.
func (t *txn) send(op string, b *pgx.Batch, skip int) (pgx.BatchResults, error) {
	t.s.stats.RoundTrips.Add(1)
	br := t.c.SendBatch(t.ctx, b)
	for range skip {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, t.fail(op, err)
		}
	}
	return br, nil
}

func (t *txn) Set(key, value []byte) {
	t.write(key, entry{v: append([]byte{}, value...)})
}

func (t *txn) Delete(key []byte) { t.write(key, entry{del: true}) }

func (t *txn) write(key []byte, e entry) {
	if t.writes == nil {
		t.writes = make(map[string]entry)
		t.dirty = make(map[string]bool)
	}
	t.writes[string(key)] = e
	t.dirty[string(key)] = true
}

// sendCommit sends the batch that ends in COMMIT and checks that the
// server committed.
func (t *txn) sendCommit(b *pgx.Batch, skip int) error {
	br, err := t.send("commit", b, skip)
	if err != nil {
		return err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return t.fail("commit", err)
	}
	if tag.String() != "COMMIT" { // an aborted transaction "commits" as ROLLBACK
		return t.fail("commit", errors.New("the server rolled the transaction back"))
	}
	return nil
}

// commit sends the buffered writes and COMMIT in one batch. A transaction
// that neither read nor wrote has nothing to send.
func (t *txn) commit() error {
	if !t.open && len(t.dirty) == 0 {
		return nil
	}
	var b pgx.Batch
	skip := t.batch(&b)
	eager := len(t.writes) > 0 && t.s.eagerCommit()
	if eager {
		b.Queue("SET LOCAL synchronous_commit = on")
		skip++
	}
	b.Queue("COMMIT")
	before := t.s.commits.Load()
	t.s.cache.commitStart(t.writes)
	err := t.sendCommit(&b, skip)
	t.s.cache.commitEnd(t.writes, err == nil)
	if err != nil {
		return err
	}
	t.done = true
	if len(t.writes) > 0 {
		t.s.committed(eager, before)
	}
	return nil
}
