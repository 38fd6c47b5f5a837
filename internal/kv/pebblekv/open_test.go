package pebblekv_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ferryfs/ferry/internal/kv/pebblekv"
)

func TestOpenRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := pebblekv.Open(dir, pebblekv.Options{})
	if !errors.Is(err, pebblekv.ErrNotStore) {
		t.Fatalf("Open(foreign dir) = %v, want ErrNotStore", err)
	}
	// Nothing was written into it.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("Open wrote into a foreign directory: %d entries", len(ents))
	}
}

func TestOpenCreatesMissingAndEmpty(t *testing.T) {
	for _, dir := range []string{filepath.Join(t.TempDir(), "a", "b"), t.TempDir()} {
		s, err := pebblekv.Open(dir, pebblekv.Options{})
		if err != nil {
			t.Fatalf("Open(%q): %v", dir, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenFileIsError(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pebblekv.Open(f, pebblekv.Options{}); err == nil {
		t.Fatalf("Open(regular file) succeeded")
	}
}

// TestOpenCorrupt damages the manifest of a closed store and expects a
// clear ErrCorrupt rather than a silently empty store.
func TestOpenCorrupt(t *testing.T) {
	fs := vfs.NewMem()
	s, err := pebblekv.Open("db", pebblekv.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", "v")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	names, err := fs.List("db")
	if err != nil {
		t.Fatal(err)
	}
	damaged := 0
	for _, n := range names {
		if len(n) > 9 && n[:9] == "MANIFEST-" {
			p := fs.PathJoin("db", n)
			data, err := fs.UnsafeGetFileDataBuffer(p)
			if err != nil {
				t.Fatal(err)
			}
			for i := range data {
				data[i] ^= 0x5a
			}
			damaged++
		}
	}
	if damaged == 0 {
		t.Fatalf("no MANIFEST file in %q", names)
	}
	_, err = pebblekv.Open("db", pebblekv.Options{FS: fs})
	if !errors.Is(err, pebblekv.ErrCorrupt) {
		t.Fatalf("Open(corrupt) = %v, want ErrCorrupt", err)
	}
	t.Logf("corrupt store: %v", err)
}

func TestOpenTwiceFails(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, dir, pebblekv.Options{})
	if s, err := pebblekv.Open(dir, pebblekv.Options{}); err == nil {
		_ = s.Close()
		t.Fatalf("second Open of a live store succeeded")
	}
}
