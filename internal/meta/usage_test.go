package meta

import (
	"context"
	"testing"
)

// A transaction takes its delta id before it commits, so a lower id can
// commit after a higher one. A fold in between must leave it counted.
func TestUsageFoldKeepsLateDelta(t *testing.T) {
	ctx := context.Background()
	fs, _, _ := newFS(t)
	before, err := fs.StatFS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	late := fs.usageBegun() // in flight: taken, not committed yet
	if _, err := fs.Mkdir(ctx, Root, RootIno, "early", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := fs.foldUsage(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The late transaction commits its delta now, under its own id.
	err = fs.update(ctx, func(t *tx) error {
		t.put(usageDeltaKey(late), usage{Files: 1}.encode())
		return nil
	})
	fs.usageEnded([]uint64{late})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.foldUsage(ctx, nil); err != nil {
		t.Fatal(err)
	}
	after, err := fs.StatFS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Files != before.Files+2 {
		t.Fatalf("files %d after a create and a late delta of 1, want %d", after.Files, before.Files+2)
	}
}

// fsck's repair sets the counters even when there is nothing to fold.
func TestUsageRepairWithNothingToFold(t *testing.T) {
	ctx := context.Background()
	fs, _, _ := newFS(t)
	if err := fs.foldUsage(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := fs.foldUsage(ctx, &usage{Files: 42, Bytes: 7}); err != nil {
		t.Fatal(err)
	}
	st, err := fs.StatFS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 42 || st.Bytes != 7 {
		t.Fatalf("after the repair: %d files, %d bytes; want 42, 7", st.Files, st.Bytes)
	}
}
