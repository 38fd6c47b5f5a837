package fusefs

import (
	"context"
	"math"
	"sync"
	"syscall"

	"github.com/ferryfs/ferry/internal/locks"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Locker is implemented by a Meta whose file locks other clients share
// (a remote service): flock(2) and fcntl(2) locks then go to it instead
// of staying in this kernel (MountOptions.EnableLocks). An embedded
// mount keeps the kernel's own locks: one kernel is the only client,
// and they cost no request at all.
//
// The kernel names lock owners by ids unique within it: a process (its
// files table) for POSIX locks, an open file description for flock and
// OFD locks. It tells the file system when they end:
//   - POSIX locks of a process go at any close(2) of the file by it: the
//     kernel sends FLUSH with the owner (FlushIn.LockOwner) and keeps no
//     record of remote locks itself, so every handle gets FLUSH
//     (no FOPEN_NOFLUSH), and a FLUSH of an owner that holds no lock on
//     the file is answered without asking the service (MayHold);
//   - flock locks go at the last close of the open file description:
//     RELEASE with FUSE_RELEASE_FLOCK_UNLOCK and the owner;
//   - OFD locks (F_OFD_SETLK) also belong to the open file description,
//     but RELEASE names no owner for them: the owners that locked
//     through a handle are remembered, and whatever they may still hold
//     is released with the handle. A process that locked through it
//     has closed it by then: its FLUSH released its POSIX locks and
//     struck it from the handle's owners.
//
// Before any lock change that lets others in (an unlock, a read lock)
// the client's buffered writes of the file are committed
// (commitForLocks).
//
// Linux does not send locks on directories to FUSE file systems: those
// stay each kernel's own.
type Locker interface {
	// GetLock returns a lock of another owner in the way of l, or one of
	// Type locks.Unlock.
	GetLock(ctx context.Context, ino uint64, l locks.Lock) (locks.Lock, error)
	// SetLock takes, converts or releases l; with wait it waits for a
	// conflicting lock to go, until ctx is done (EINTR).
	SetLock(ctx context.Context, ino uint64, l locks.Lock, wait bool) error
	// MayHold reports whether owner may hold locks of the kind on ino;
	// false is certain.
	MayHold(ino, owner uint64, flock bool) bool
}

// lockOwners remembers the lock owners that locked through each handle.
type lockOwners struct {
	mu sync.Mutex
	m  map[uint64]map[lockOwner]bool // fh → owners
}

type lockOwner struct {
	id    uint64
	flock bool
}

func (o *lockOwners) add(fh uint64, w lockOwner) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = make(map[uint64]map[lockOwner]bool)
	}
	if o.m[fh] == nil {
		o.m[fh] = make(map[lockOwner]bool)
	}
	o.m[fh][w] = true
}

func (o *lockOwners) remove(fh uint64, w lockOwner) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.m[fh], w)
}

func (o *lockOwners) take(fh uint64) map[lockOwner]bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	ws := o.m[fh]
	delete(o.m, fh)
	return ws
}

// withLocks has the kernel send locks to a Locker.
func (f *fileSystem) withLocks(o *fuse.MountOptions) *fuse.MountOptions {
	o.EnableLocks = f.locker != nil
	return o
}

// lockOf translates a kernel lock request.
func lockOf(in *fuse.LkIn) (locks.Lock, bool) {
	l := locks.Lock{Owner: locks.Owner{ID: in.Owner}, Flock: in.LkFlags&fuse.LK_FLOCK != 0,
		Start: in.Lk.Start, End: in.Lk.End, Pid: in.Lk.Pid}
	switch in.Lk.Typ {
	case syscall.F_RDLCK:
		l.Type = locks.Read
	case syscall.F_WRLCK:
		l.Type = locks.Write
	case syscall.F_UNLCK:
		l.Type = locks.Unlock
	default:
		return l, false
	}
	return l, l.Check() == nil
}

// GetLk answers F_GETLK.
func (f *fileSystem) GetLk(cancel <-chan struct{}, in *fuse.LkIn, out *fuse.LkOut) fuse.Status {
	if f.locker == nil {
		return fuse.ENOSYS
	}
	l, ok := lockOf(in)
	if !ok || l.Type == locks.Unlock {
		return fuse.EINVAL
	}
	b, err := f.locker.GetLock(requestContext(cancel, &in.InHeader), in.NodeId, l)
	if err != nil {
		return f.status("getlk", in.NodeId, err)
	}
	out.Lk = fuse.FileLock{Typ: syscall.F_UNLCK}
	if b.Type == locks.Read || b.Type == locks.Write {
		// The kernel takes no offset past OFFSET_MAX (EIO).
		out.Lk = fuse.FileLock{Start: min(b.Start, math.MaxInt64), End: min(b.End, math.MaxInt64), Pid: b.Pid, Typ: syscall.F_RDLCK}
		if b.Type == locks.Write {
			out.Lk.Typ = syscall.F_WRLCK
		}
	}
	return fuse.OK
}

// SetLk answers F_SETLK and flock(LOCK_NB).
func (f *fileSystem) SetLk(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return f.setLk(cancel, in, false)
}

// SetLkw answers F_SETLKW and a blocking flock: it waits until the lock
// is granted or the kernel interrupts the request (a signal: EINTR, which
// the kernel restarts where the signal's handler asks for it).
func (f *fileSystem) SetLkw(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return f.setLk(cancel, in, true)
}

func (f *fileSystem) setLk(cancel <-chan struct{}, in *fuse.LkIn, wait bool) fuse.Status {
	if f.locker == nil {
		return fuse.ENOSYS
	}
	l, ok := lockOf(in)
	if !ok {
		return fuse.EINVAL
	}
	ctx, stop := context.WithCancel(requestContext(cancel, &in.InHeader))
	defer stop()
	if wait && cancel != nil {
		go func() {
			select {
			case <-cancel:
				stop()
			case <-ctx.Done():
			}
		}()
	}
	if l.Type != locks.Unlock {
		f.lockOwners.add(in.Fh, lockOwner{in.Owner, l.Flock})
	}
	if l.Type != locks.Write {
		// An unlock or a read lock (a downgrade, perhaps) lets others
		// in: they must read what was written under the lock.
		if err := f.commitForLocks(ctx, in.NodeId); err != nil {
			return f.status("setlk", in.NodeId, err)
		}
	}
	return f.status("setlk", in.NodeId, f.locker.SetLock(ctx, in.NodeId, l, wait))
}

// flushLocks releases the POSIX locks of the process that closes a file
// (FLUSH, at every close(2)). Errors are logged: close(2) does not report
// them on Linux either.
func (f *fileSystem) flushLocks(in *fuse.FlushIn) {
	if f.locker == nil {
		return
	}
	// The process closed its descriptor: what it locked through this
	// handle is released now, not at the handle's RELEASE (by which
	// time it may have locked again through another).
	f.lockOwners.remove(in.Fh, lockOwner{in.LockOwner, false})
	if !f.locker.MayHold(in.NodeId, in.LockOwner, false) {
		return
	}
	ctx := context.Background()
	f.logErr("commit before unlock at close", in.NodeId, f.commitForLocks(ctx, in.NodeId))
	unlock := locks.Lock{Owner: locks.Owner{ID: in.LockOwner}, Type: locks.Unlock, End: locks.Whole}
	f.logErr("unlock at close", in.NodeId, f.locker.SetLock(ctx, in.NodeId, unlock, false))
}

// releaseLocks releases, at the last close of an open file description
// (RELEASE), its flock lock and what the owners that locked through it
// may still hold.
func (f *fileSystem) releaseLocks(in *fuse.ReleaseIn) {
	if f.locker == nil {
		return
	}
	owners := f.lockOwners.take(in.Fh)
	if in.ReleaseFlags&fuse.FUSE_RELEASE_FLOCK_UNLOCK != 0 {
		if owners == nil {
			owners = make(map[lockOwner]bool)
		}
		owners[lockOwner{in.LockOwner, true}] = true
	}
	ctx, committed := context.Background(), false
	for w := range owners {
		if !f.locker.MayHold(in.NodeId, w.id, w.flock) {
			continue
		}
		if !committed {
			f.logErr("commit before unlock at release", in.NodeId, f.commitForLocks(ctx, in.NodeId))
			committed = true
		}
		unlock := locks.Lock{Owner: locks.Owner{ID: w.id}, Flock: w.flock, Type: locks.Unlock, End: locks.Whole}
		f.logErr("unlock at release", in.NodeId, f.locker.SetLock(ctx, in.NodeId, unlock, false))
	}
}

// commitForLocks commits the writes buffered for ino before a lock
// change that lets other owners in: the commit recalls what other
// clients cache of the file, so the next holder of the lock reads what
// was written under it, as applications that share files under locks
// (databases, mail spools) expect. Nothing buffered costs nothing.
func (f *fileSystem) commitForLocks(ctx context.Context, ino uint64) error {
	return f.data.Flush(ctx, ino)
}
