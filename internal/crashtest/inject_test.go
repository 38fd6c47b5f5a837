package crashtest

import (
	"context"
	"errors"
	"sync"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/kv"
)

// errCrashed is what every store write returns once the budget is spent:
// the process is "dead" from then on.
var errCrashed = errors.New("injected crash")

// budget counts store writes across the kv and blob stores.
type budget struct {
	mu   sync.Mutex
	left int
	dead bool
}

func (b *budget) spend() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dead || b.left <= 0 {
		b.dead = true
		return errCrashed
	}
	b.left--
	return nil
}

func (b *budget) crashed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dead
}

// crashKV fails Update and Sync once the budget is spent. A failed Update
// never commits.
type crashKV struct {
	kv.Store
	b *budget
}

func (c crashKV) Update(ctx context.Context, fn func(kv.Txn) error) error {
	if err := c.b.spend(); err != nil {
		return err
	}
	return c.Store.Update(ctx, fn)
}

func (c crashKV) Sync(ctx context.Context) error {
	if err := c.b.spend(); err != nil {
		return err
	}
	return c.Store.Sync(ctx)
}

// crashBlob fails Put, Delete and Sync once the budget is spent.
type crashBlob struct {
	blob.Store
	b *budget
}

func (c crashBlob) Put(ctx context.Context, key string, data []byte) error {
	if err := c.b.spend(); err != nil {
		return err
	}
	return c.Store.Put(ctx, key, data)
}

func (c crashBlob) Delete(ctx context.Context, key string) error {
	if err := c.b.spend(); err != nil {
		return err
	}
	return c.Store.Delete(ctx, key)
}

func (c crashBlob) Sync(ctx context.Context) error {
	if err := c.b.spend(); err != nil {
		return err
	}
	return blob.Sync(ctx, c.Store)
}
