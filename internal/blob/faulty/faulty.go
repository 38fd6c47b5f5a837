package faulty

import (
	"context"
	"errors"
	"sync"

	"github.com/ferryfs/ferry/internal/blob"
)

// ErrCrashed is the default error of writes at and after the crash point.
var ErrCrashed = errors.New("faulty: store crashed")

// Counts are the calls a Store has received, failed ones included.
type Counts struct {
	Puts, Gets, Deletes, Lists, Syncs int64
	// Writes is Puts plus Deletes: the numbering CrashAt uses.
	Writes int64
}

// Store wraps a blob.Store and injects faults. Its methods are safe for
// concurrent use.
type Store struct {
	inner blob.Store

	mu       sync.Mutex // guards the fields below
	counts   Counts
	crashAt  int64 // 0: never
	crashErr error
	crashed  bool
	putErr   error
	corrupt  map[string]bool
}

var (
	_ blob.Store  = (*Store)(nil)
	_ blob.Syncer = (*Store)(nil)
)

// New returns a Store that passes every call to inner until told otherwise.
func New(inner blob.Store) *Store {
	return &Store{inner: inner, corrupt: map[string]bool{}}
}

// Inner returns the wrapped store, for checking what reached it.
func (s *Store) Inner() blob.Store { return s.inner }

// CrashAt makes the n-th write since New (n ≥ 1) and every later write and
// Sync fail with err (ErrCrashed if nil) without reaching the inner store.
// If n writes have already been made, the next write crashes. n ≤ 0 turns
// the crash point off unless it has already been reached.
func (s *Store) CrashAt(n int64, err error) {
	if err == nil {
		err = ErrCrashed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.crashAt, s.crashErr = max(n, 0), err
}

// Crashed reports whether the crash point has been reached.
func (s *Store) Crashed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.crashed
}

// FailPuts makes every later Put fail with err without reaching the inner
// store; nil stops it. Deletes are unaffected.
func (s *Store) FailPuts(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putErr = err
}

// Corrupt makes Get return damaged bytes for keys: one bit flipped in the
// middle of every non-empty range read. The stored object is untouched.
func (s *Store) Corrupt(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.corrupt[k] = true
	}
}

// Uncorrupt undoes Corrupt for keys, or for every key if none are given.
func (s *Store) Uncorrupt(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(keys) == 0 {
		clear(s.corrupt)
	}
	for _, k := range keys {
		delete(s.corrupt, k)
	}
}

// Counts returns the calls received so far.
func (s *Store) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// admitWrite numbers a Put or Delete and returns the error it must fail
// with, if any.
func (s *Store) admitWrite(put bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts.Writes++
	if put {
		s.counts.Puts++
	} else {
		s.counts.Deletes++
	}
	if s.crashAt > 0 && s.counts.Writes >= s.crashAt {
		s.crashed = true
	}
	switch {
	case s.crashed:
		return s.crashErr
	case put && s.putErr != nil:
		return s.putErr
	}
	return nil
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := s.admitWrite(true); err != nil {
		return &blob.OpError{Op: "put", Key: key, Err: err}
	}
	return s.inner.Put(ctx, key, data)
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.admitWrite(false); err != nil {
		return &blob.OpError{Op: "delete", Key: key, Err: err}
	}
	return s.inner.Delete(ctx, key)
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string, off, length int64) ([]byte, error) {
	s.mu.Lock()
	s.counts.Gets++
	corrupt := s.corrupt[key]
	s.mu.Unlock()
	data, err := s.inner.Get(ctx, key, off, length)
	if err == nil && corrupt && len(data) > 0 {
		data[len(data)/2] ^= 0x10 // Get returns a buffer the caller owns
	}
	return data, err
}

// List implements blob.Store.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Object) error) error {
	s.mu.Lock()
	s.counts.Lists++
	s.mu.Unlock()
	return s.inner.List(ctx, prefix, fn)
}

// Sync implements blob.Syncer: it fails after a crash and otherwise
// forwards to the inner store if that has a Syncer.
func (s *Store) Sync(ctx context.Context) error {
	s.mu.Lock()
	s.counts.Syncs++
	crashed, err := s.crashed, s.crashErr
	s.mu.Unlock()
	if crashed {
		return &blob.OpError{Op: "sync", Err: err}
	}
	if err := ctx.Err(); err != nil {
		return &blob.OpError{Op: "sync", Err: err}
	}
	return blob.Sync(ctx, s.inner)
}
