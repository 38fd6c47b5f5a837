package standby

import (
	"context"
	"errors"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/meta"
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

// Update runs fn and, in the same transaction, checks that the lease
// still holds the volume; else it fails with ErrFenced, commits nothing,
// and marks the lease lost. The check comes after fn, which changes
// nothing in a serializable transaction, so that the record is read in
// fn's first batch of reads on stores that batch them.
func (f *Fenced) Update(ctx context.Context, fn func(tx kv.Txn) error) error {
	err := f.Store.Update(ctx, func(tx kv.Txn) error {
		ft := &fencedTxn{Txn: tx}
		if err := fn(ft); err != nil {
			return err
		}
		_, err := f.lease.check(tx)
		return err
	})
	if errors.Is(err, ErrFenced) {
		f.lease.lose(err)
	}
	return err
}

// prefetcher is a transaction that reads several keys in one round trip
// (meta announces the keys it is about to read).
type prefetcher interface {
	Prefetch(keys ...[]byte)
}

// fencedTxn adds the active record to the transaction's first prefetch.
type fencedTxn struct {
	kv.Txn
	asked bool
}

func (t *fencedTxn) Prefetch(keys ...[]byte) {
	p, ok := t.Txn.(prefetcher)
	if !ok {
		return
	}
	if !t.asked {
		t.asked = true
		keys = append(keys[:len(keys):len(keys)], meta.ActiveKey())
	}
	p.Prefetch(keys...)
}
