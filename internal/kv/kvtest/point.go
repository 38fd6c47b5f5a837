package kvtest

import (
	"context"
	"errors"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

// testPointGet: Store.Get sees every committed update, misses are
// ErrNotFound, and the result belongs to the caller.
func testPointGet(t *testing.T, s kv.Store) {
	ctx := context.Background()
	if _, err := s.Get(ctx, []byte("p")); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("get of a missing key: %v, want ErrNotFound", err)
	}
	for i, v := range []string{"one", "two"} {
		err := s.Update(ctx, func(tx kv.Txn) error {
			tx.Set([]byte("p"), []byte(v))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, []byte("p"))
		if err != nil || string(got) != v {
			t.Fatalf("after update %d: %q, %v; want %q", i, got, err, v)
		}
		got[0] = 'X' // must not reach the store
	}
	if got, err := s.Get(ctx, []byte("p")); err != nil || string(got) != "two" {
		t.Fatalf("caller's change reached the store: %q, %v", got, err)
	}
	err := s.Update(ctx, func(tx kv.Txn) error {
		tx.Delete([]byte("p"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, []byte("p")); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(canceled, []byte("p")); err == nil {
		t.Fatal("get with a canceled context succeeded")
	}
}
