package pebblekv

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ferryfs/ferry/internal/kv"
)

// Get implements kv.Store with Pebble's own point read: no iterator to
// build, bloom filters consulted.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !s.gate.Enter() {
		return nil, kv.ErrClosed
	}
	defer s.gate.Leave()
	return reader{s.db}.Get(key)
}

// View implements kv.Store. fn reads through a Pebble iterator created
// when View starts: an iterator reads at the sequence number that was
// visible when it was made and holds the memtables and tables of that
// moment, and its clones share both, so every read of the View sees one
// state. This is cheaper than a pebble.Snapshot, whose Close takes the DB
// mutex and re-runs the compaction picker (see the package documentation).
func (s *Store) View(ctx context.Context, fn func(kv.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.gate.Enter() {
		return kv.ErrClosed
	}
	defer s.gate.Leave()
	root, err := s.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("pebblekv: view: %w", err)
	}
	r := &viewReader{root: root}
	err = fn(r)
	if cerr := r.close(); cerr != nil && err == nil {
		err = fmt.Errorf("pebblekv: view: %w", cerr)
	}
	return err
}

// Update implements kv.Store. Updates run one at a time under wlock, so
// each one reads the latest committed state and nothing commits between its
// reads and its own commit: that makes them serializable without conflict
// detection, and fn is called exactly once. The transaction's writes
// collect in an indexed batch, whose reads merge the batch over the
// database; the batch commits without waiting for the disk (see Sync).
func (s *Store) Update(ctx context.Context, fn func(kv.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.gate.Enter() {
		return kv.ErrClosed
	}
	defer s.gate.Leave()
	select {
	case s.wlock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.wlock }()

	b := s.db.NewIndexedBatch()
	defer b.Close()
	tx := &txn{reader: reader{b}, b: b}
	if err := fn(tx); err != nil {
		return err
	}
	if tx.err != nil {
		return tx.err
	}
	if b.Empty() {
		return nil
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("pebblekv: commit %d ops: %w", b.Count(), err)
	}
	s.commits.Add(1)
	return nil
}

// Sync implements kv.Store. It writes an empty record to the log with
// Sync set: the log is one append-only file per memtable and an older one
// is synced when it is retired, so syncing the current file makes every
// earlier commit durable. A Sync with no commit since the last one returns
// at once.
func (s *Store) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.gate.Enter() {
		return kv.ErrClosed
	}
	defer s.gate.Leave()
	upTo := s.commits.Load()
	if s.synced.Load() >= upTo {
		return nil
	}
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("pebblekv: sync %q: %w", s.dir, err)
	}
	for {
		old := s.synced.Load()
		if old >= upTo || s.synced.CompareAndSwap(old, upTo) {
			return nil
		}
	}
}

// reader implements kv.Reader inside Update, over the indexed batch.
type reader struct {
	r pebble.Reader
}

func (r reader) Get(key []byte) ([]byte, error) {
	v, closer, err := r.r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, kv.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pebblekv: get %q: %w", key, err)
	}
	out := bytes.Clone(v)
	if err := closer.Close(); err != nil {
		return nil, fmt.Errorf("pebblekv: get %q: %w", key, err)
	}
	return out, nil
}

func (r reader) Scan(start, end []byte, fn func(k, v []byte) bool) error {
	if end != nil && bytes.Compare(start, end) >= 0 {
		return nil
	}
	start = lowerBound(start)
	it, err := r.r.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return fmt.Errorf("pebblekv: scan [%q, %q): %w", start, end, err)
	}
	err = walk(it, start, end, fn)
	if cerr := it.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("pebblekv: scan [%q, %q): %w", start, end, cerr)
	}
	return err
}

// txn implements kv.Txn over an indexed batch. Batch writes copy their
// arguments. The first write error is kept and returned by Update.
type txn struct {
	reader
	b   *pebble.Batch
	err error
}

func (t *txn) Set(key, value []byte) {
	if err := t.b.Set(key, value, nil); err != nil && t.err == nil {
		t.err = fmt.Errorf("pebblekv: set %q: %w", key, err)
	}
}

func (t *txn) Delete(key []byte) {
	if err := t.b.Delete(key, nil); err != nil && t.err == nil {
		t.err = fmt.Errorf("pebblekv: delete %q: %w", key, err)
	}
}
