package fusefs

import (
	"context"
	"github.com/ferryfs/ferry/internal/procs"
	"log/slog"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// fileSystem is the go-fuse RawFileSystem: every request of the kernel
// arrives here, is translated into calls of Meta and the data path, and
// their errors into errnos. Node ids are inode numbers; the root is 1.
type fileSystem struct {
	fuse.RawFileSystem // ENOSYS for what is not implemented here

	meta   Meta
	data   dataPath
	opts   Options // defaults applied
	log    *slog.Logger
	groups *groupCache
	files  handleTable
	refs   *kernelRefs
	procs  *procs.Governor // nil unless Options.AdaptiveProcs

	locker     Locker     // nil: the kernel keeps locks itself (locks.go)
	lockOwners lockOwners // owners that locked through each handle

	// onInit receives the server once INIT is answered; the notification
	// worker writes through it.
	onInit func(*fuse.Server)
	// invalidate queues a notice that drops the kernel's cached attributes
	// of an inode; it is set once the notification queue exists.
	invalidate func(ino uint64)
}

func newFileSystem(m Meta, data dataPath, opts Options) *fileSystem {
	opts = opts.withDefaults()
	return &fileSystem{
		RawFileSystem: fuse.NewDefaultRawFileSystem(),
		meta:          m,
		data:          data,
		opts:          opts,
		log:           opts.Logger,
		groups:        newGroupCache(time.Now, readProcGroups),
		files:         handleTable{m: make(map[uint64]handle)},
		refs:          newKernelRefs(),
	}
}

func (f *fileSystem) String() string { return "ferry" }

// Init is called by go-fuse once the kernel's INIT is answered, before any
// other request is served.
func (f *fileSystem) Init(s *fuse.Server) {
	if f.onInit != nil {
		f.onInit(s)
	}
}

// OnUnmount is called by go-fuse when the serve loop ends.
func (f *fileSystem) OnUnmount() {
	f.log.Info("fuse: unmounted", "fsname", f.opts.FsName, "open_files", f.files.count())
}

// requestContext returns the context of one request: the caller, and no
// cancellation. The kernel sends INTERRUPT whenever the calling thread
// gets a signal, and Go programs get SIGURG all the time; answering EINTR
// would fail close(2), write(2) and fsync(2), which C programs do not
// retry and which leave buffered data uncommitted. So an interrupted
// request completes. A caller killed by a signal does not wait for it:
// the kernel abandons the wait itself.
func requestContext(_ <-chan struct{}, h *fuse.InHeader) context.Context {
	return &fuse.Context{Caller: h.Caller}
}

// handle is an open file.
type handle struct {
	ino      uint64
	writable bool
}

// handleTable maps file handles (the Fh the kernel sends back) to open
// files. Handles are never reused within a mount.
type handleTable struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64]handle
}

func (t *handleTable) add(h handle) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	t.m[t.next] = h
	return t.next
}

func (t *handleTable) get(fh uint64) (handle, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, ok := t.m[fh]
	return h, ok
}

func (t *handleTable) remove(fh uint64) (handle, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, ok := t.m[fh]
	delete(t.m, fh)
	return h, ok
}

func (t *handleTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
