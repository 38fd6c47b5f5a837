package pebblekv

import (
	"context"
	"fmt"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

// BenchmarkPointGetVsView compares Store.Get with a View holding one Get,
// on 20,000 keys.
func BenchmarkPointGetVsView(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i := range 20 {
		err := s.Update(ctx, func(t kv.Txn) error {
			for j := range 1000 {
				t.Set([]byte(fmt.Sprintf("k%06d", i*1000+j)), make([]byte, 80))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	key := []byte("k012345")
	b.Run("view", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			err := s.View(ctx, func(r kv.Reader) error { _, err := r.Get(key); return err })
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("point", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Get(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
}
