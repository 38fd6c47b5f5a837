package metered_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/blobtest"
	"github.com/ferryfs/ferry/internal/blob/faulty"
	"github.com/ferryfs/ferry/internal/blob/memblob"
	"github.com/ferryfs/ferry/internal/blob/metered"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(*testing.T) blob.Store { return metered.New(memblob.New()) })
}

// The counts are exact: calls by kind, bytes written by successful Puts,
// bytes Gets returned, failures of any kind.
func TestCounts(t *testing.T) {
	ctx := context.Background()
	f := faulty.New(memblob.New())
	s := metered.New(f)
	if err := s.Put(ctx, "a", make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Get(ctx, "a", 100, 300); err != nil || len(p) != 300 {
		t.Fatalf("Get = %d bytes, %v", len(p), err)
	}
	if _, err := s.Get(ctx, "missing", 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get of a missing object: %v", err)
	}
	if err := s.List(ctx, "", func(blob.Object) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	f.CrashAt(1, nil)
	if err := s.Put(ctx, "b", make([]byte, 500)); !errors.Is(err, faulty.ErrCrashed) {
		t.Fatalf("Put after the crash point: %v", err)
	}
	if err := s.Delete(ctx, "a"); !errors.Is(err, faulty.ErrCrashed) {
		t.Fatalf("Delete after the crash point: %v", err)
	}
	want := metered.Counts{Puts: 2, Gets: 2, Deletes: 1, Lists: 1, Syncs: 1, Failures: 3, BytesWritten: 1000, BytesRead: 300}
	if got := s.Counts(); got != want {
		t.Errorf("Counts() = %+v\nwant       %+v", got, want)
	}
	if s.Inner() != f {
		t.Error("Inner() is not the wrapped store")
	}
}
