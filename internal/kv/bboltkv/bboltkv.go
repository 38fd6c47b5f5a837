package bboltkv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ferryfs/ferry/internal/kv"
)

var bucket = []byte("kv")

// Store is a kv.Store on one bbolt file.
type Store struct {
	db    *bolt.DB
	path  string
	wlock chan struct{} // ctx-aware wait for the single writer
	gate  *kv.Gate
}

var _ kv.Store = (*Store)(nil)

// Open opens or creates the bbolt file at path.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         time.Second,
		NoSync:          true,
		NoFreelistSync:  true,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 1 << 30, // address space only; see the package doc
	})
	if err != nil {
		return nil, fmt.Errorf("bboltkv: open %q: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bboltkv: open %q: create bucket: %w", path, err)
	}
	s := &Store{db: db, path: path, wlock: make(chan struct{}, 1)}
	s.gate = kv.NewGate()
	return s, nil
}

// enter makes an operation hold off Close; it reports ErrClosed after it.
func (s *Store) enter() error {
	if !s.gate.Enter() {
		return kv.ErrClosed
	}
	return nil
}

func (s *Store) leave() { s.gate.Leave() }

// Get implements kv.Store.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	var out []byte
	err := s.View(ctx, func(r kv.Reader) error {
		var err error
		out, err = r.Get(key)
		return err
	})
	return out, err
}

// View implements kv.Store on a bbolt read-only transaction.
func (s *Store) View(ctx context.Context, fn func(kv.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	var ferr error
	err := s.db.View(func(tx *bolt.Tx) error {
		ferr = fn(reader{tx.Bucket(bucket)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("bboltkv: view: %w", err)
	}
	return ferr
}

// Update implements kv.Store on a bbolt read-write transaction.
func (s *Store) Update(ctx context.Context, fn func(kv.Txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	select {
	case s.wlock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.wlock }()
	var ferr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		t := &txn{reader: reader{tx.Bucket(bucket)}}
		if ferr = fn(t); ferr != nil {
			return ferr
		}
		ferr = t.err
		return ferr
	})
	if ferr != nil {
		return ferr
	}
	if err != nil {
		return fmt.Errorf("bboltkv: commit: %w", err)
	}
	return nil
}

// Sync implements kv.Store with fdatasync.
func (s *Store) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("bboltkv: sync %q: %w", s.path, err)
	}
	return nil
}

// Close syncs and closes the file after running operations finish. A
// second Close returns nil.
func (s *Store) Close() error {
	if !s.gate.Close() {
		return nil
	}
	serr := s.db.Sync()
	if err := errors.Join(serr, s.db.Close()); err != nil {
		return fmt.Errorf("bboltkv: close %q: %w", s.path, err)
	}
	return nil
}

type reader struct {
	b *bolt.Bucket
}

func (r reader) Get(key []byte) ([]byte, error) {
	// Get cannot tell an empty value from a missing key; the cursor can.
	k, v := r.b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, kv.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (r reader) Scan(start, end []byte, fn func(k, v []byte) bool) error {
	c := r.b.Cursor()
	var k, v []byte
	if len(start) == 0 {
		k, v = c.First()
	} else {
		k, v = c.Seek(start)
	}
	for ; k != nil; k, v = c.Next() {
		if end != nil && bytes.Compare(k, end) >= 0 {
			break
		}
		if !fn(k, v) {
			break
		}
	}
	return nil
}

// txn implements kv.Txn; bbolt's Put copies nothing until commit, so the
// arguments are cloned first. The first write error is returned by Update.
type txn struct {
	reader
	err error
}

func (t *txn) Set(key, value []byte) {
	if value == nil {
		value = []byte{}
	}
	if err := t.b.Put(bytes.Clone(key), bytes.Clone(value)); err != nil && t.err == nil {
		t.err = fmt.Errorf("bboltkv: set %q: %w", key, err)
	}
}

func (t *txn) Delete(key []byte) {
	if err := t.b.Delete(key); err != nil && t.err == nil {
		t.err = fmt.Errorf("bboltkv: delete %q: %w", key, err)
	}
}
