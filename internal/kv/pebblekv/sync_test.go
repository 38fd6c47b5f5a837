package pebblekv_test

import (
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ferryfs/ferry/internal/kv/pebblekv"
)

// countingFS counts the syncs of files it opens for writing.
type countingFS struct {
	vfs.FS
	syncs atomic.Int64
}

type countingFile struct {
	vfs.File
	fs *countingFS
}

func (fs *countingFS) wrap(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, fs: fs}, nil
}

func (fs *countingFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.wrap(fs.FS.Create(name, c))
}

func (fs *countingFS) ReuseForWrite(old, name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.wrap(fs.FS.ReuseForWrite(old, name, c))
}

func (fs *countingFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return fs.wrap(fs.FS.OpenReadWrite(name, c, opts...))
}

func (f *countingFile) Sync() error {
	f.fs.syncs.Add(1)
	return f.File.Sync()
}

func (f *countingFile) SyncData() error {
	f.fs.syncs.Add(1)
	return f.File.SyncData()
}

func (f *countingFile) SyncTo(length int64) (bool, error) {
	f.fs.syncs.Add(1)
	return f.File.SyncTo(length)
}

// TestSyncSkipsWhenClean checks that Sync reaches the disk after a commit
// and not again until the next one.
func TestSyncSkipsWhenClean(t *testing.T) {
	fs := &countingFS{FS: vfs.NewMem()}
	s := mustOpen(t, "db", pebblekv.Options{FS: fs})
	syncOnce := func() int64 {
		t.Helper()
		before := fs.syncs.Load()
		if err := s.Sync(t.Context()); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		return fs.syncs.Load() - before
	}
	put(t, s, "a", "1")
	if n := syncOnce(); n == 0 {
		t.Fatalf("Sync after a commit synced no file")
	}
	if n := syncOnce(); n != 0 {
		t.Fatalf("Sync with nothing new synced %d files", n)
	}
	put(t, s, "b", "2")
	if n := syncOnce(); n == 0 {
		t.Fatalf("Sync after a second commit synced no file")
	}
}
