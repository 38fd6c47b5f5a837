package fusefs

import (
	"context"
	"sync"
	"syscall"

	"github.com/ferryfs/ferry/internal/meta"
)

// kernelRefs counts the kernel's lookups of fifos, sockets and devices:
// each reply that hands the kernel a node id (LOOKUP, MKNOD, LINK, a
// READDIRPLUS entry) adds one, and FORGET takes away the number it names.
// The kernel sends no OPEN for these, so without the count meta would
// purge one unlinked while a process still has it open, and fstat on
// that descriptor would fail. Regular files and directories are counted
// by their opens instead; only special files take memory here.
type kernelRefs struct {
	mu sync.Mutex
	n  map[uint64]uint64
}

func newKernelRefs() *kernelRefs { return &kernelRefs{n: make(map[uint64]uint64)} }

// inc adds one lookup of ino and reports whether it is the first.
func (r *kernelRefs) inc(ino uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n[ino]++
	return r.n[ino] == 1
}

// dec takes away n lookups of ino and reports whether none is left. An
// inode that is not counted here is not a special file: false.
func (r *kernelRefs) dec(ino, n uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	have, ok := r.n[ino]
	if !ok {
		return false
	}
	if n < have {
		r.n[ino] = have - n
		return false
	}
	delete(r.n, ino)
	return true
}

func (r *kernelRefs) count(ino uint64) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[ino]
}

func (r *kernelRefs) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.n)
}

// isSpecial reports whether mode is a fifo, socket or device node.
func isSpecial(mode uint32) bool {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFIFO, syscall.S_IFSOCK, syscall.S_IFCHR, syscall.S_IFBLK:
		return true
	}
	return false
}

// looked records that a reply about to be sent hands the kernel a lookup
// of the inode a describes. The first lookup of a special file holds it
// in meta. It runs before the reply is written, so a FORGET can never
// arrive for a lookup not yet counted.
func (f *fileSystem) looked(ctx context.Context, a meta.Attr) {
	if l, ok := f.meta.(Lessee); ok {
		l.Looked(a.Ino)
	}
	if !isSpecial(a.Mode) || !f.refs.inc(a.Ino) {
		return
	}
	if err := f.meta.Hold(ctx, a.Ino); err != nil {
		// Gone in between (removed by another request): the kernel's
		// FORGET will find nothing held. Release of an inode nobody
		// holds is harmless.
		f.log.Debug("fuse: hold of a special file failed", "ino", a.Ino, "err", err)
	}
}

// Forget drops nlookup of the kernel's lookups of nodeid. Node ids are
// inode numbers, there is no table of them; only special files are
// counted (see kernelRefs), and the last forget of one releases it.
func (f *fileSystem) Forget(nodeid, nlookup uint64) {
	// The kernel is done with the inode: the data path may let go of what
	// it keeps for it (it keeps anything still buffered).
	f.data.Invalidate(nodeid)
	if l, ok := f.meta.(Lessee); ok {
		l.Forgot(nodeid, nlookup)
	}
	if f.refs.dec(nodeid, nlookup) {
		f.logErr("release at forget", nodeid, f.meta.Release(context.Background(), nodeid))
	}
}
