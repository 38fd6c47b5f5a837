package standby

import (
	"context"
	"errors"

	"github.com/ferryfs/ferry/internal/kv"
)

// Fenced is a kv.Store whose updates commit only while a lease holds the
// volume: each one checks the active record in its own transaction.
type Fenced struct {
	kv.Store
	lease *Lease
}

var _ kv.Store = (*Fenced)(nil)

// Fence returns store with its updates fenced by l.
func Fence(store kv.Store, l *Lease) *Fenced { return &Fenced{Store: store, lease: l} }

// Update runs fn if, in the same transaction, the lease still holds the
// volume; else it fails with ErrFenced and marks the lease lost.
func (f *Fenced) Update(ctx context.Context, fn func(tx kv.Txn) error) error {
	err := f.Store.Update(ctx, func(tx kv.Txn) error {
		if _, err := f.lease.check(tx); err != nil {
			return err
		}
		return fn(tx)
	})
	if errors.Is(err, ErrFenced) {
		f.lease.lose(err)
	}
	return err
}
