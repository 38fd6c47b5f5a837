package metered

import (
	"context"
	"sync/atomic"

	"github.com/ferryfs/ferry/internal/blob"
)

// Counts are what passed through a Store since New.
type Counts struct {
	Puts, Gets, Deletes, Lists, Syncs uint64
	Failures                          uint64 // calls of any kind that returned an error
	BytesWritten                      uint64 // by Puts that succeeded
	BytesRead                         uint64 // returned by Gets
}

// Store counts the calls to the store it wraps. It is safe for concurrent
// use.
type Store struct {
	inner blob.Store

	puts, gets, deletes, lists, syncs atomic.Uint64
	failures, written, read           atomic.Uint64
}

var (
	_ blob.Store  = (*Store)(nil)
	_ blob.Syncer = (*Store)(nil)
)

// New returns a Store counting the calls to inner.
func New(inner blob.Store) *Store { return &Store{inner: inner} }

// Inner returns the wrapped store.
func (s *Store) Inner() blob.Store { return s.inner }

// Counts returns what passed through so far.
func (s *Store) Counts() Counts {
	return Counts{
		Puts: s.puts.Load(), Gets: s.gets.Load(), Deletes: s.deletes.Load(),
		Lists: s.lists.Load(), Syncs: s.syncs.Load(), Failures: s.failures.Load(),
		BytesWritten: s.written.Load(), BytesRead: s.read.Load(),
	}
}

func (s *Store) failed(err error) error {
	if err != nil {
		s.failures.Add(1)
	}
	return err
}

func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	s.puts.Add(1)
	err := s.inner.Put(ctx, key, data)
	if err == nil {
		s.written.Add(uint64(len(data)))
	}
	return s.failed(err)
}

func (s *Store) Get(ctx context.Context, key string, off, length int64) ([]byte, error) {
	s.gets.Add(1)
	p, err := s.inner.Get(ctx, key, off, length)
	s.read.Add(uint64(len(p)))
	return p, s.failed(err)
}

func (s *Store) Delete(ctx context.Context, key string) error {
	s.deletes.Add(1)
	return s.failed(s.inner.Delete(ctx, key))
}

func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Object) error) error {
	s.lists.Add(1)
	return s.failed(s.inner.List(ctx, prefix, fn))
}

// Sync passes Sync on to the wrapped store if it has one; for one that
// needs none it only checks ctx, as a Syncer does.
func (s *Store) Sync(ctx context.Context) error {
	s.syncs.Add(1)
	if _, ok := s.inner.(blob.Syncer); !ok {
		return s.failed(ctx.Err())
	}
	return s.failed(blob.Sync(ctx, s.inner))
}
