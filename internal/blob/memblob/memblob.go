// Package memblob is the in-memory reference implementation of blob.Store.
// It owns nothing but a map guarded by one mutex; objects are copied in on
// Put and out on Get, so callers never share memory with the store. It has
// no Syncer: nothing here outlives the process, and everything Put is as
// durable as it will ever be.
package memblob

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
)

type object struct {
	data []byte
	mod  time.Time
}

// Store is an in-memory blob.Store. The zero value is not usable; call New.
type Store struct {
	mu   sync.Mutex // guards objs
	objs map[string]object
}

var _ blob.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{objs: map[string]object{}}
}

func check(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return &blob.OpError{Op: op, Key: key, Err: err}
	}
	if err := blob.CheckKey(key); err != nil {
		return &blob.OpError{Op: op, Key: key, Err: err}
	}
	return nil
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := check(ctx, "put", key); err != nil {
		return err
	}
	o := object{data: slices.Clone(data), mod: time.Now()}
	if o.data == nil {
		o.data = []byte{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs[key] = o
	return nil
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string, off, length int64) ([]byte, error) {
	if err := check(ctx, "get", key); err != nil {
		return nil, err
	}
	if err := blob.CheckRange(off); err != nil {
		return nil, &blob.OpError{Op: "get", Key: key, Err: err}
	}
	s.mu.Lock()
	o, ok := s.objs[key]
	s.mu.Unlock()
	if !ok {
		return nil, &blob.OpError{Op: "get", Key: key, Err: blob.ErrNotFound}
	}
	// o.data is never written after Put, so it is safe to copy unlocked.
	return slices.Clone(blob.Clip(o.data, off, length)), nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := check(ctx, "delete", key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objs, key)
	return nil
}

// List implements blob.Store. It calls fn on a snapshot taken when List
// starts, without holding the lock, so fn may use the store.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Object) error) error {
	if err := ctx.Err(); err != nil {
		return &blob.OpError{Op: "list", Key: prefix, Err: err}
	}
	var objs []blob.Object
	s.mu.Lock()
	for k, o := range s.objs {
		if strings.HasPrefix(k, prefix) {
			objs = append(objs, blob.Object{Key: k, Size: int64(len(o.data)), ModTime: o.mod})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(objs, func(a, b blob.Object) int { return strings.Compare(a.Key, b.Key) })
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return &blob.OpError{Op: "list", Key: prefix, Err: err}
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// Len returns the number of objects held.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objs)
}
