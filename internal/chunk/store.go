package chunk

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
)

// Layout is the part of the metadata service the data path needs.
type Layout interface {
	// GetLayout returns the blocks of ino in [first, first+count) that hold
	// data; blocks that are wholly holes are omitted.
	GetLayout(ctx context.Context, ino uint64, first, count uint64) ([]Block, error)
	// NewObjectIDs reserves n fresh object ids and returns the first.
	NewObjectIDs(ctx context.Context, n int) (uint64, error)
	// CommitWrite lays uploaded pieces over ino's blocks, extends its size
	// and sets its mtime in one transaction.
	CommitWrite(ctx context.Context, ino uint64, w Write) error
}

// Options configure a Store.
type Options struct {
	BlockSize  int   // bytes per block, fixed per volume
	CacheBytes int64 // memory for cached object payloads
	DirtyBytes int64 // memory for buffered writes across all files
	Uploads    int   // concurrent object uploads
	Now        func() time.Time
	Logger     *slog.Logger
}

// Store is the client's data path: write-back buffering, background
// uploads, layout commits, and a bounded read cache.
type Store struct{}

var errTodo = errors.New("chunk: not implemented")

// New returns a Store writing objects to objs and layouts to layout.
func New(objs blob.Store, layout Layout, opts Options) *Store { return &Store{} }

// Write buffers p at offset off of ino. It blocks while the write-back
// buffer is full.
func (s *Store) Write(ctx context.Context, ino uint64, p []byte, off int64, killSUID bool) error {
	return errTodo
}

// Read fills p from offset off of ino, whose current size is size (the
// committed size with Dirty's size laid over it). Bytes past size are not
// read; n < len(p) only at end of file.
func (s *Store) Read(ctx context.Context, ino uint64, p []byte, off int64, size uint64) (int, error) {
	return 0, errTodo
}

// Dirty reports the size and mtime ino will have once its buffered writes
// are committed, and whether it has any.
func (s *Store) Dirty(ino uint64) (size uint64, mtime int64, ok bool) { return 0, 0, false }

// Flush uploads ino's buffered writes and commits them.
func (s *Store) Flush(ctx context.Context, ino uint64) error { return errTodo }

// FlushAll flushes every file.
func (s *Store) FlushAll(ctx context.Context) error { return errTodo }

// SyncObjects makes every uploaded object durable.
func (s *Store) SyncObjects(ctx context.Context) error { return errTodo }

// Truncate discards buffered bytes of ino at or past size and forgets its
// cached layout; the caller then truncates the metadata.
func (s *Store) Truncate(ino uint64, size uint64) {}

// Invalidate forgets ino's cached layout and cached data.
func (s *Store) Invalidate(ino uint64) {}

// Close flushes nothing: callers FlushAll first. It stops background work.
func (s *Store) Close() error { return nil }
