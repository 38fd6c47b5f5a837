package kvtest

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

func testCanceledContext(t *testing.T, s kv.Store) {
	set(t, s, "k", "1")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	if err := s.View(ctx, func(kv.Reader) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("View(canceled) = %v, want context.Canceled", err)
	}
	if err := s.Update(ctx, func(tx kv.Txn) error {
		called = true
		tx.Set([]byte("k"), []byte("2"))
		return nil
	}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Update(canceled) = %v, want context.Canceled", err)
	}
	if called {
		t.Fatalf("fn was called with a canceled context")
	}
	if err := s.Sync(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sync(canceled) = %v, want context.Canceled", err)
	}
	wantValue(t, s, "k", "1")
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

func testClosed(t *testing.T, s kv.Store) {
	set(t, s, "k", "1")
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	called := false
	if _, err := s.Get(t.Context(), []byte("k")); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
	if err := s.View(t.Context(), func(kv.Reader) error { called = true; return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("View after Close = %v, want ErrClosed", err)
	}
	if err := s.Update(t.Context(), func(kv.Txn) error { called = true; return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("Update after Close = %v, want ErrClosed", err)
	}
	if called {
		t.Fatalf("fn was called on a closed store")
	}
	if err := s.Sync(t.Context()); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("Sync after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
}

// testCloseDuringView closes the store while a View runs: new operations
// are refused, the running View keeps reading, and Close then succeeds.
func testCloseDuringView(t *testing.T, s kv.Store) {
	set(t, s, "k", "1", "l", "2")
	closed := make(chan error, 1)
	err := s.View(t.Context(), func(r kv.Reader) error {
		go func() { closed <- s.Close() }()
		for i := 0; ; i++ {
			err := s.View(t.Context(), func(kv.Reader) error { return nil })
			if errors.Is(err, kv.ErrClosed) {
				break
			}
			if err != nil {
				t.Fatalf("View while closing: %v", err)
			}
			if i == 1_000_000 {
				t.Fatalf("Close did not take effect")
			}
			runtime.Gosched()
		}
		readValue(t, r, "k", "1")
		wantPairs(t, "scan while closing", collect(t, r, nil, nil), []pair{{"k", "1"}, {"l", "2"}})
		return nil
	})
	if err != nil {
		t.Fatalf("running View: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}
