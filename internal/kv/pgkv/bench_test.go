package pgkv_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

// BenchmarkCreateShape runs the transaction of a create: read the parent,
// miss the new name, write the inode, the parent and the entry; the two
// reads announced first, as meta does.
func BenchmarkCreateShape(b *testing.B) {
	s := mustOpen(b, freshURL(b))
	ctx := b.Context()
	parent := []byte("I\x00parent")
	val := make([]byte, 120)
	if err := s.Update(ctx, func(tx kv.Txn) error { tx.Set(parent, val); return nil }); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		name := binary.BigEndian.AppendUint64([]byte("D"), uint64(i))
		ino := binary.BigEndian.AppendUint64([]byte("I"), uint64(i))
		err := s.Update(ctx, func(tx kv.Txn) error {
			tx.(interface{ Prefetch(...[]byte) }).Prefetch(parent, name)
			if _, err := tx.Get(parent); err != nil {
				return err
			}
			if _, err := tx.Get(name); !errors.Is(err, kv.ErrNotFound) {
				return err
			}
			tx.Set(ino, val)
			tx.Set(parent, val)
			tx.Set(name, val[:16])
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(s.Stats().RoundTrips.Load())/float64(b.N), "rt/op")
}

// BenchmarkPointGet is one Store.Get: the floor of a round trip.
func BenchmarkPointGet(b *testing.B) {
	s := mustOpen(b, freshURL(b))
	ctx := b.Context()
	for range b.N {
		if _, err := s.Get(ctx, []byte("k")); !errors.Is(err, kv.ErrNotFound) {
			b.Fatal(err)
		}
	}
}
