package localblob

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
)

func openInternal(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func put(t *testing.T, s *Store, key string) {
	t.Helper()
	if err := s.Put(context.Background(), key, []byte(key)); err != nil {
		t.Fatal(err)
	}
}

func TestPendingTracksFilesAndDirs(t *testing.T) {
	s := openInternal(t, Options{})
	put(t, s, "blocks/0a/1")
	put(t, s, "blocks/0a/2")
	put(t, s, "top")
	if want := []string{"blocks/0a/1", "blocks/0a/2", "top"}; !slices.Equal(s.pend.files, want) {
		t.Fatalf("pending files %q, want %q", s.pend.files, want)
	}
	// "" and "blocks" gained the directories, "blocks/0a" the objects.
	dirs := slices.Sorted(maps.Keys(s.pend.dirs))
	if want := []string{"", "blocks", "blocks/0a"}; !slices.Equal(dirs, want) {
		t.Fatalf("pending dirs %q, want %q", dirs, want)
	}
	if err := s.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.pend.size() != 0 || s.pend.overflow {
		t.Fatalf("pending after Sync: %+v", s.pend)
	}
	put(t, s, "blocks/0a/3")
	if dirs := slices.Collect(maps.Keys(s.pend.dirs)); !slices.Equal(dirs, []string{"blocks/0a"}) {
		t.Fatalf("a Put into an existing directory marks %q", dirs)
	}
}

func TestPendingOverflow(t *testing.T) {
	s := openInternal(t, Options{MaxPending: 4})
	for i := range 10 {
		put(t, s, filepath.Join("o", string(rune('a'+i))))
	}
	if !s.pend.overflow || s.pend.files != nil || s.pend.dirs != nil {
		t.Fatalf("after 10 Puts with MaxPending 4: %+v", s.pend)
	}
	if err := s.Sync(context.Background()); err != nil {
		t.Fatalf("Sync by syncfs: %v", err)
	}
	if s.pend.overflow {
		t.Fatal("overflow survives Sync")
	}
	put(t, s, "o/z")
	if len(s.pend.files) != 1 {
		t.Fatalf("tracking did not resume after Sync: %+v", s.pend)
	}
}

// TestSyncCanceledKeepsPending hands fsyncAll a canceled context: nothing
// may be forgotten and nothing is sticky.
func TestSyncCanceledKeepsPending(t *testing.T) {
	s := openInternal(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var retry pending
	err := s.fsyncAll(ctx, []string{"a", "b", "c"}, func(k string) { retry.files = append(retry.files, k) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("fsyncAll with a canceled context = %v", err)
	}
	if slices.Sort(retry.files); !slices.Equal(retry.files, []string{"a", "b", "c"}) {
		t.Fatalf("keys kept for retry: %q", retry.files)
	}
	if s.failed != nil {
		t.Fatalf("a canceled sync became sticky: %v", s.failed)
	}
}

// TestSyncFailureIsSticky makes the fsync of the store's directory fail
// (its handle is closed underneath) and checks that every later Sync fails.
func TestSyncFailureIsSticky(t *testing.T) {
	s := openInternal(t, Options{})
	put(t, s, "x") // marks the top directory
	if err := s.root.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err := s.Sync(ctx)
	var oe *blob.OpError
	if !errors.Is(err, os.ErrClosed) || !errors.As(err, &oe) || oe.Op != "sync" {
		t.Fatalf("Sync with a failing fsync = %v", err)
	}
	put(t, s, "y")
	for range 2 {
		if err := s.Sync(ctx); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Sync after a failed fsync = %v, want the sticky error", err)
		}
	}
	s.closed = true // the handle is already closed
}

func TestClean(t *testing.T) {
	s := openInternal(t, Options{})
	put(t, s, "blocks/00/1")
	foreign := []string{
		filepath.Join(s.dir, tmpPrefix+"0123456789abcdef-1"),
		filepath.Join(s.dir, "blocks", "00", tmpPrefix+"fedcba9876543210-99"),
	}
	own := filepath.Join(s.dir, "blocks", tmpPrefix+s.token+"-12345")
	for _, p := range append(slices.Clone(foreign), own) {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	s.List(context.Background(), "", func(o blob.Object) error { keys = append(keys, o.Key); return nil })
	if !slices.Equal(keys, []string{"blocks/00/1"}) {
		t.Fatalf("List with temporary files present = %q", keys)
	}
	n, err := s.Clean(context.Background())
	if err != nil || n != len(foreign) {
		t.Fatalf("Clean = %d, %v; want %d", n, err, len(foreign))
	}
	for _, p := range foreign {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived Clean: %v", p, err)
		}
	}
	if _, err := os.Stat(own); err != nil {
		t.Errorf("Clean removed a temporary file of its own store: %v", err)
	}
	if b, err := s.Get(context.Background(), "blocks/00/1", 0, -1); err != nil || string(b) != "blocks/00/1" {
		t.Fatalf("object after Clean: %q, %v", b, err)
	}
}
