package pebblekv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ferryfs/ferry/internal/kv"
)

// Defaults sized for a `ferry mount` process that must stay under 256 MiB
// of resident memory in total; see the package documentation.
const (
	DefaultCacheBytes    = 32 << 20
	DefaultMemTableBytes = 16 << 20
)

// formatVersion is pinned so that a newer Pebble never silently ratchets the
// on-disk format of an existing store; raising it is a deliberate change.
const formatVersion = pebble.FormatValueSeparation

// maxMemTables is the number of memtables (the one taking writes and the
// one being flushed) at which Pebble stalls writes.
const maxMemTables = 2

// ErrNotStore is returned by Open for a non-empty directory that holds no
// Pebble store.
var ErrNotStore = errors.New("pebblekv: not a pebble store")

// ErrCorrupt is returned by Open when the store's files are damaged.
var ErrCorrupt = errors.New("pebblekv: store is corrupt")

// Options configures Open. The zero value is usable.
type Options struct {
	// FS is the file system the store lives on; nil means the local disk.
	// Tests pass vfs.NewMem() or vfs.NewCrashableMem().
	FS vfs.FS
	// CacheBytes is the block cache size for table blocks, on top of the
	// memtables; 0 means DefaultCacheBytes.
	CacheBytes int64
	// MemTableBytes is the size of one memtable; 0 means
	// DefaultMemTableBytes. Writes stall while two are full, so the store
	// holds at most CacheBytes + 2*MemTableBytes of cache and memtables.
	MemTableBytes uint64
	// Logger receives Pebble's own messages and events (flushes,
	// compactions, stalls) as they are, without attributes of its own: the
	// caller scopes it, e.g. With("component", "pebble"). nil discards them.
	Logger *slog.Logger
}

// Store is a kv.Store on an embedded Pebble database.
type Store struct {
	db   *pebble.DB
	dir  string
	gate *kv.Gate
	// wlock is a one-slot semaphore held for the whole of an Update, so
	// read-write transactions run one at a time (waiting honours ctx).
	wlock chan struct{}
	// commits counts committed Updates; synced is the count that the last
	// Sync covered.
	commits, synced atomic.Uint64
}

var _ kv.Store = (*Store)(nil)

// Open opens the store in dir, creating it if dir is missing or empty.
// A directory with other contents fails with ErrNotStore, a damaged store
// with ErrCorrupt.
func Open(dir string, opts Options) (*Store, error) {
	fs := opts.FS
	if fs == nil {
		fs = vfs.Default
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkDir(fs, dir); err != nil {
		return nil, err
	}
	cacheBytes := opts.CacheBytes
	if cacheBytes <= 0 {
		cacheBytes = DefaultCacheBytes
	}
	memBytes := opts.MemTableBytes
	if memBytes == 0 {
		memBytes = DefaultMemTableBytes
	}
	// Pebble charges live memtables to its block cache, so the cache is
	// made large enough for both; otherwise full memtables would leave no
	// room for a single block.
	cache := pebble.NewCache(cacheBytes + int64(maxMemTables*memBytes))
	defer cache.Unref() // the DB holds its own reference
	po := &pebble.Options{
		FS:                          fs,
		Cache:                       cache,
		MemTableSize:                memBytes,
		MemTableStopWritesThreshold: maxMemTables,
		FormatMajorVersion:          formatVersion,
		Logger:                      pebbleLogger{log},
	}
	events := pebble.MakeLoggingEventListener(pebbleLogger{log})
	po.EventListener = &events
	// Bloom filters on every level (L1+ inherit L0's policy) make point
	// reads of absent keys, the common case of a name lookup before a
	// create, skip the tables that cannot hold them.
	po.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	db, err := pebble.Open(dir, po)
	if err != nil {
		if pebble.IsCorruptionError(err) {
			return nil, fmt.Errorf("pebblekv: open %q: %w: %w", dir, ErrCorrupt, err)
		}
		return nil, fmt.Errorf("pebblekv: open %q: %w", dir, err)
	}
	s := &Store{
		db:    db,
		dir:   dir,
		wlock: make(chan struct{}, 1),
	}
	s.gate = kv.NewGate()
	return s, nil
}

// checkDir refuses a directory that has contents but none of the files a
// Pebble store starts with. Pebble writes LOCK before anything else, so
// even a creation interrupted by a crash is recognised and completed.
func checkDir(fs vfs.FS, dir string) error {
	names, err := fs.List(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pebblekv: open %q: %w", dir, err)
	}
	if len(names) == 0 {
		return nil
	}
	for _, n := range names {
		if n == "LOCK" || n == "CURRENT" || strings.HasPrefix(n, "MANIFEST-") ||
			strings.HasPrefix(n, "marker.") || strings.HasPrefix(n, "OPTIONS-") {
			return nil
		}
	}
	return fmt.Errorf("pebblekv: open %q: %w (it holds %d other entries)", dir, ErrNotStore, len(names))
}

// Close waits for running operations to finish and closes the database.
// Pebble syncs its log on close, so a clean Close loses nothing; a second
// Close returns nil. Close must not be called from inside View or Update.
func (s *Store) Close() error {
	if !s.gate.Close() {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("pebblekv: close %q: %w", s.dir, err)
	}
	return nil
}

// pebbleLogger routes Pebble's printf-style log calls, and its events
// (flushes, compactions, write stalls), to slog. Informational messages go
// to Debug: they describe Pebble's own housekeeping.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l.Enabled(context.Background(), slog.LevelDebug) {
		p.l.Debug(fmt.Sprintf(format, args...))
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}

// Fatalf is called by Pebble when it cannot continue (for example a failed
// log write); it must not return. Panicking instead of exiting lets the
// process's own recovery and logging run.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "fatal", true)
	panic("pebblekv: " + msg)
}
