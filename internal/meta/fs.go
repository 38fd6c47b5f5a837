package meta

import (
	"context"
	"encoding/binary"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferryfs/ferry/internal/kv"
)

// Options configure an FS.
type Options struct {
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// DeleteObjects deletes objects nobody references any more. It is
	// called after the transaction that dropped them commits; ids it fails
	// to delete stay recorded and are retried later (and by gc).
	DeleteObjects func(ctx context.Context, ids []uint64) error
	// OnCommit, if set, is told what every committed transaction changed,
	// before the operation that ran it returns; ctx is the operation's.
	// The service recalls its clients' leases on those inodes with it.
	OnCommit func(ctx context.Context, changes []Change)
	// KeepOrphans leaves files unlinked while open alone at start: their
	// holders may be clients of a service that restarted, who open them
	// again when they reconnect. The service calls ReclaimOrphans later.
	KeepOrphans bool
	Logger      *slog.Logger
}

// FS is the metadata service: POSIX semantics over a kv.Store. Every
// mutation is one transaction.
//
// Lock order: openMu, then allocator mutexes; no lock is held across a
// store transaction except an allocator's while it refills.
type FS struct {
	store kv.Store
	opts  Options
	log   *slog.Logger
	super Super

	inos allocator
	objs allocator

	usageSeq    atomic.Uint64 // ids of usage delta records, taken under usageMu
	usageMu     sync.Mutex
	usageLive   map[uint64]bool // delta ids of transactions not ended yet
	usageDeltas atomic.Uint64   // delta records written by this process
	usageFolded atomic.Uint64   // usageDeltas at the last fold

	openMu  sync.Mutex
	opens   map[uint64]int  // open count per inode
	orphans map[uint64]bool // inodes this process made orphans
	purging map[uint64]int  // inodes a running transaction purges

	reap     chan struct{}
	stop     chan struct{}
	reapDone chan struct{}
}

// New opens the metadata service on a formatted store. Orphans left by a
// previous process (files unlinked while open) are reclaimed, and objects
// dropped but not yet deleted are deleted in the background.
func New(ctx context.Context, store kv.Store, opts Options) (*FS, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	sb, err := ReadSuper(ctx, store)
	if err != nil {
		return nil, err
	}
	fs := &FS{
		store:    store,
		opts:     opts,
		log:      opts.Logger,
		super:    sb,
		opens:    make(map[uint64]int),
		orphans:  make(map[uint64]bool),
		purging:  make(map[uint64]int),
		reap:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		reapDone: make(chan struct{}),
	}
	if err := fs.seedUsage(ctx); err != nil {
		return nil, err
	}
	fs.inos = allocator{key: counterKey("ino"), batch: 1024}
	fs.objs = allocator{key: counterKey("obj"), batch: 1024}
	if !opts.KeepOrphans {
		if err := fs.reclaimOrphans(ctx); err != nil {
			return nil, err
		}
	}
	go fs.reaper()
	fs.wakeReaper()
	return fs, nil
}

// Super returns the volume record.
func (fs *FS) Super() Super { return fs.super }

// Close stops background work. It does not close the store.
func (fs *FS) Close() error {
	select {
	case <-fs.stop:
	default:
		close(fs.stop)
		<-fs.reapDone
	}
	return nil
}

// Sync makes every committed change durable.
func (fs *FS) Sync(ctx context.Context) error {
	return fail("sync", 0, "", fs.store.Sync(ctx))
}

// allocator hands out ids from ranges reserved in the store, so that a
// create does not contend on one counter key.
type allocator struct {
	mu          sync.Mutex
	key         []byte
	batch       uint64
	next, limit uint64
}

func (a *allocator) alloc(ctx context.Context, fs *FS, n uint64) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next+n > a.limit || a.next == 0 {
		grab := max(a.batch, n)
		var first uint64
		err := fs.store.Update(ctx, func(t kv.Txn) error {
			r := reader{r: t, fs: fs}
			p, ok, err := r.get(a.key)
			if err != nil {
				return err
			}
			first = 1
			if ok {
				if len(p) != 8 {
					fs.corrupt(a.key)
					return errCorrupt
				}
				first = binary.LittleEndian.Uint64(p)
			}
			t.Set(a.key, seal(a.key, binary.LittleEndian.AppendUint64(nil, first+grab)))
			return nil
		})
		if err != nil {
			return 0, err
		}
		a.next, a.limit = first, first+grab
	}
	id := a.next
	a.next += n
	return id, nil
}

// NewObjectIDs reserves n fresh object ids and returns the first.
func (fs *FS) NewObjectIDs(ctx context.Context, n int) (uint64, error) {
	if n <= 0 {
		return 0, fail("newobjectids", 0, "", errInval)
	}
	id, err := fs.objs.alloc(ctx, fs, uint64(n))
	return id, fail("newobjectids", 0, "", err)
}

// seedUsage starts usage delta ids past every id in the store, whatever
// the clock says.
func (fs *FS) seedUsage(ctx context.Context) error {
	return fs.view(ctx, func(r reader) error {
		_, _, last, err := r.sumUsage()
		fs.usageSeq.Store(max(last, uint64(fs.opts.Now().UnixNano())))
		return err
	})
}
