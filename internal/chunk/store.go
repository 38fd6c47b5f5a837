package chunk

import (
	"container/list"
	"context"
	"log/slog"
	"sync"
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

// Options configure a Store. Zero values select the defaults.
type Options struct {
	BlockSize  int   // bytes per block, fixed per volume (DefaultBlockSize)
	CacheBytes int64 // memory for cached object payloads (256 MiB, at least two blocks)
	DirtyBytes int64 // memory for buffered writes across all files (256 MiB, at least one block)
	Uploads    int   // concurrent object uploads (4)
	Now        func() time.Time
	Logger     *slog.Logger
}

const (
	// DefaultBlockSize is the block size when Options.BlockSize is 0.
	DefaultBlockSize = 4 << 20
	// MaxBlockSize is the largest block size a Store accepts.
	MaxBlockSize = 1 << 30

	layoutWindow  = 64 // blocks fetched per GetLayout
	compactPieces = 16 // a block with more committed pieces is rewritten
	idBatch       = 64 // object ids reserved per NewObjectIDs
	prefetchDepth = 4  // blocks read ahead of a sequential reader, at most
	prefetchSlots = 4  // concurrent prefetches
	layoutRetries = 8  // GetLayout attempts racing with commits
	flushAllJobs  = 8  // concurrent flushes in FlushAll
	bytesPerMiB   = 1 << 20
)

// Store is the client's data path: write-back buffering, background
// uploads, layout commits, and a bounded read cache. See doc.go for the
// locking rules.
type Store struct {
	objs   blob.Store
	layout Layout
	opts   Options
	bs     uint32
	log    *slog.Logger
	cache  *objectCache
	depth  uint64 // prefetch depth in blocks

	upSem       chan struct{} // upload slots
	prefetchSem chan struct{} // prefetch slots
	bg          context.Context
	stop        context.CancelFunc
	wg          sync.WaitGroup

	idMu   sync.Mutex // held across NewObjectIDs
	idNext uint64
	idEnd  uint64

	mu        sync.Mutex
	closed    bool
	inodes    map[uint64]*inode
	dirty     int64     // accounted write-back memory, reservations included
	peakDirty int64     // highest value dirty reached
	inflight  int64     // accounted memory of blocks being uploaded
	applying  int       // writers holding a reservation not yet applied
	dirtyList list.List // *dirtyBlock, oldest first
	changed   chan struct{}
	lastErr   error // latest background upload failure
}

// New returns a Store writing objects to objs and layouts to layout.
func New(objs blob.Store, layout Layout, opts Options) *Store {
	if opts.BlockSize == 0 {
		opts.BlockSize = DefaultBlockSize
	}
	if opts.BlockSize < 0 || opts.BlockSize > MaxBlockSize {
		panic("chunk: block size out of range")
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 256 * bytesPerMiB
	}
	opts.CacheBytes = max(opts.CacheBytes, 2*(int64(opts.BlockSize)+ObjectHeaderSize))
	if opts.DirtyBytes <= 0 {
		opts.DirtyBytes = 256 * bytesPerMiB
	}
	opts.DirtyBytes = max(opts.DirtyBytes, int64(opts.BlockSize)+ObjectHeaderSize)
	if opts.Uploads <= 0 {
		opts.Uploads = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	bg, stop := context.WithCancel(context.Background())
	return &Store{
		objs:        objs,
		layout:      layout,
		opts:        opts,
		bs:          uint32(opts.BlockSize),
		log:         opts.Logger,
		cache:       newObjectCache(opts.CacheBytes),
		depth:       uint64(min(prefetchDepth, opts.CacheBytes/(4*int64(opts.BlockSize)))),
		upSem:       make(chan struct{}, opts.Uploads),
		prefetchSem: make(chan struct{}, prefetchSlots),
		bg:          bg,
		stop:        stop,
		inodes:      make(map[uint64]*inode),
		changed:     make(chan struct{}),
	}
}

// inode returns the state of ino, creating it.
func (s *Store) inode(ino uint64) *inode {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.inodes[ino]
	if in == nil {
		in = newInode(ino)
		s.inodes[ino] = in
	}
	return in
}

// peek returns the state of ino, or nil.
func (s *Store) peek(ino uint64) *inode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inodes[ino]
}

// lockInode returns the live state of ino, created if needed, with its mu
// held.
func (s *Store) lockInode(ino uint64) *inode {
	for {
		in := s.inode(ino)
		in.mu.Lock()
		if !in.dead {
			return in
		}
		in.mu.Unlock()
	}
}

// spawn runs f in a goroutine Close waits for.
func (s *Store) spawn(f func()) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		go f() // s.bg is done: f fails fast
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// checkOpen returns ErrClosed once Close was called.
func (s *Store) checkOpen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// broadcastLocked wakes writers waiting for memory. Caller holds s.mu.
func (s *Store) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// buffered reports the size and mtime ino will have once its buffered
// writes are committed, and whether it has any. The size is the highest
// byte written (clamped by Truncate); the file's size is the larger of it
// and the committed size. Callers outside use Reported.
func (s *Store) buffered(ino uint64) (size uint64, mtime int64, ok bool) {
	in := s.peek(ino)
	if in == nil {
		return 0, 0, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dead || !in.writes {
		return 0, 0, false
	}
	return in.size, in.mtime, true
}

// Reported is buffered, extended past the commit of the writes: it keeps
// reporting the size and mtime of the last commit until Invalidate or
// Truncate. Attributes read from the metadata just before a commit landed,
// then laid under Reported read just after, still come out right.
func (s *Store) Reported(ino uint64) (size uint64, mtime int64, ok bool) {
	in := s.peek(ino)
	if in == nil {
		return 0, 0, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dead || !in.writes && !in.reported {
		return 0, 0, false
	}
	return in.size, in.mtime, true
}

// Invalidate forgets ino's cached layout and cached data. The state of an
// inode with nothing buffered is released altogether.
func (s *Store) Invalidate(ino uint64) {
	s.cache.dropIno(ino)
	in := s.peek(ino)
	if in == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.dropLayout()
	in.fenceSet = false
	in.readNext, in.prefetchNext = 0, 0
	if in.dead || !in.idle() {
		return
	}
	s.mu.Lock()
	if s.inodes[ino] == in {
		delete(s.inodes, ino)
	}
	s.mu.Unlock()
	in.dead = true
}

// SyncObjects makes every uploaded object durable.
func (s *Store) SyncObjects(ctx context.Context) error {
	return wrap("sync", 0, blob.Sync(ctx, s.objs))
}

// Close flushes nothing: callers FlushAll first. It stops background work
// (uploads in flight fail and their data stays buffered) and waits for it.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.broadcastLocked()
	s.mu.Unlock()
	s.stop()
	s.wg.Wait()
	return nil
}
