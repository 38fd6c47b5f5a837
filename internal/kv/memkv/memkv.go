// Package memkv is the in-memory reference implementation of kv.Store.
//
// Read-only views run on a copy-on-write snapshot of a B-tree; read-write
// transactions are serialized by one mutex, which makes them trivially
// serializable. Sync is a no-op: nothing here survives the process.
//
// Lock order: wmu (held for a whole Update) before mu (held only to clone or
// swap the published tree). Cloning writes the source tree's copy-on-write
// context, so even readers take mu exclusively; the clone is O(1).
package memkv

import (
	"bytes"
	"context"
	"sync"

	"github.com/google/btree"

	"github.com/ferryfs/ferry/internal/kv"
)

type item struct {
	key, value []byte
}

func less(a, b item) bool { return bytes.Compare(a.key, b.key) < 0 }

// Store is an in-memory kv.Store.
type Store struct {
	wmu    sync.Mutex // serializes Update; taken before mu
	mu     sync.Mutex // guards tree and closed
	tree   *btree.BTreeG[item]
	closed bool
}

var _ kv.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{tree: btree.NewG[item](32, less)}
}

func (s *Store) snapshot() (*btree.BTreeG[item], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, kv.ErrClosed
	}
	return s.tree.Clone(), nil
}

// Get implements kv.Store.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, kv.ErrClosed
	}
	return reader{s.tree}.Get(key)
}

// View implements kv.Store.
func (s *Store) View(ctx context.Context, fn func(kv.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t, err := s.snapshot()
	if err != nil {
		return err
	}
	return fn(reader{t})
}

// Update implements kv.Store.
func (s *Store) Update(ctx context.Context, fn func(kv.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	t, err := s.snapshot()
	if err != nil {
		return err
	}
	if err := fn(&txn{reader{t}}); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return kv.ErrClosed
	}
	s.tree = t
	return nil
}

// Sync implements kv.Store.
func (s *Store) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return kv.ErrClosed
	}
	return nil
}

// Close implements kv.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

type reader struct {
	t *btree.BTreeG[item]
}

func (r reader) Get(key []byte) ([]byte, error) {
	it, ok := r.t.Get(item{key: key})
	if !ok {
		return nil, kv.ErrNotFound
	}
	return bytes.Clone(it.value), nil
}

func (r reader) Scan(start, end []byte, fn func(k, v []byte) bool) error {
	visit := func(it item) bool { return fn(it.key, it.value) }
	if end == nil {
		r.t.AscendGreaterOrEqual(item{key: start}, visit)
	} else {
		r.t.AscendRange(item{key: start}, item{key: end}, visit)
	}
	return nil
}

type txn struct {
	reader
}

func (t *txn) Set(key, value []byte) {
	t.t.ReplaceOrInsert(item{key: bytes.Clone(key), value: bytes.Clone(value)})
}

func (t *txn) Delete(key []byte) {
	t.t.Delete(item{key: key})
}
