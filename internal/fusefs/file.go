package fusefs

import (
	"context"
	"math"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// openFlags are the OpenOut flags of a file: the kernel keeps its page
// cache across opens (it is kept right by the kernel's own writes on this
// single mount, by recalls later), and close(2) sends no FLUSH: buffered
// writes are committed when the last handle is released, by fsync, by the
// background sync tick, and (with several clients) when another client's
// open recalls the writer. That is a local file system's contract too:
// close does not write back, fsync does, and a write-back error shows at
// the next fsync or write rather than at close.
//
// With Options.CommitOnClose (a mount of a service, which other clients
// share), writable handles do get FLUSH, and close commits: another
// client's stat after the close sees the new size and times.
func (f *fileSystem) openFlags(writable bool) uint32 {
	if writable && f.opts.CommitOnClose || f.locker != nil { // locks.go: FLUSH releases locks
		return fuse.FOPEN_KEEP_CACHE
	}
	return fuse.FOPEN_KEEP_CACHE | fuse.FOPEN_NOFLUSH
}

func isWritable(flags uint32) bool { return flags&syscall.O_ACCMODE != syscall.O_RDONLY }

// Open opens an existing file. O_TRUNC arrives here (ATOMIC_O_TRUNC):
// buffered writes are committed first, so none can land after the
// truncation, then meta truncates and the data path forgets the file.
func (f *fileSystem) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	ctx := requestContext(cancel, &in.InHeader)
	c := f.caller(&in.InHeader)
	ino := in.NodeId
	trunc := in.Flags&syscall.O_TRUNC != 0
	if trunc {
		if err := f.data.Flush(ctx, ino); err != nil {
			return f.status("open", ino, err)
		}
	}
	a, err := f.meta.Open(ctx, c, ino, in.Flags)
	if err != nil {
		return f.status("open", ino, err)
	}
	if trunc && a.Mode&syscall.S_IFMT == syscall.S_IFREG {
		f.data.Truncate(ino, 0)
		// An unprivileged truncating open clears suid/sgid (the kernel
		// leaves that to us with HANDLE_KILLPRIV_V2; it marks its cached
		// attributes stale itself after an O_TRUNC open).
		if in.Mode&fuse.OPEN_KILL_SUIDGID != 0 && a.Mode&(syscall.S_ISUID|syscall.S_ISGID) != 0 {
			if _, err := f.meta.SetAttr(ctx, c, ino, meta.SetAttrIn{Valid: meta.SetKillSUID}); err != nil {
				f.logErr("release", ino, f.meta.Release(context.Background(), ino))
				return f.status("open", ino, err)
			}
		}
	}
	w := isWritable(in.Flags)
	out.Fh = f.files.add(handle{ino: ino, writable: w})
	out.OpenFlags = f.openFlags(w)
	return fuse.OK
}

// accessed applies relatime to a read that reached the server (file data
// not in the page cache, a directory listing from its start): the kernel
// keeps no access times for FUSE inodes, and reads of cached pages never
// arrive, as with every FUSE file system. When the access time moved, the
// kernel's cached attributes are dropped (through the notification worker,
// never from this handler).
func (f *fileSystem) accessed(ctx context.Context, ino uint64) {
	changed, err := f.meta.Accessed(ctx, ino)
	if err != nil {
		f.logErr("accessed", ino, err)
		return
	}
	if changed && f.invalidate != nil {
		f.invalidate(ino)
	}
}

// Create makes and opens a regular file in one request; the umask is
// meta's to apply, as for Mknod.
func (f *fileSystem) Create(cancel <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	a, err := f.meta.Create(meta.WithUmask(requestContext(cancel, &in.InHeader), in.Umask), f.caller(&in.InHeader), in.NodeId, name, in.Mode, in.Flags)
	if err != nil {
		return f.status("create", in.NodeId, err)
	}
	f.fillEntry(&out.EntryOut, a)
	w := isWritable(in.Flags)
	out.Fh = f.files.add(handle{ino: a.Ino, writable: w})
	out.OpenFlags = f.openFlags(w)
	return fuse.OK
}

// Tmpfile makes and opens a nameless regular file (open(2) with
// O_TMPFILE). It lives while it is open; linkat(2) can give it a name.
func (f *fileSystem) Tmpfile(cancel <-chan struct{}, in *fuse.CreateIn, out *fuse.CreateOut) fuse.Status {
	a, err := f.meta.Tmpfile(meta.WithUmask(requestContext(cancel, &in.InHeader), in.Umask), f.caller(&in.InHeader), in.NodeId, in.Mode)
	if err != nil {
		return f.status("tmpfile", in.NodeId, err)
	}
	f.fillEntry(&out.EntryOut, a)
	w := isWritable(in.Flags)
	out.Fh = f.files.add(handle{ino: a.Ino, writable: w})
	out.OpenFlags = f.openFlags(w)
	return fuse.OK
}

// Read reads from the data path, which needs the file's current size: the
// committed one with buffered writes laid over it. Committed data is not
// copied here: the reply is written from the cached objects' payloads.
func (f *fileSystem) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	f.procs.Begin()
	defer f.procs.End()
	ctx := requestContext(cancel, &in.InHeader)
	ino := in.NodeId
	if in.Offset > math.MaxInt64 {
		return nil, fuse.EINVAL
	}
	a, err := f.meta.GetAttr(ctx, ino)
	if err != nil {
		return nil, f.status("read", ino, err)
	}
	a = f.overlay(a)
	if meta.AtimeDue(a, time.Now().UnixNano()) {
		f.accessed(ctx, ino)
	}
	size := a.Size
	if in.Offset >= size || in.Size == 0 {
		return fuse.ReadResultData(nil), fuse.OK
	}
	n := int(min(uint64(in.Size), size-in.Offset))
	if len(buf) < n {
		buf = make([]byte, n)
	}
	segs, _, err := f.data.ReadSlices(ctx, ino, buf[:n], int64(in.Offset), size)
	if err != nil {
		return nil, f.status("read", ino, err)
	}
	if len(segs) == 1 {
		return fuse.ReadResultData(segs[0]), fuse.OK
	}
	return fuse.ReadResultVector(segs), fuse.OK
}

// Write buffers data in the data path. WRITE_KILL_SUIDGID (a caller
// without CAP_FSETID) is passed on: the commit clears suid/sgid. The
// kernel has already had them cleared before the write if its cached mode
// shows them: it sends an empty SETATTR first (see setAttrIn), whose reply
// carries the new mode.
func (f *fileSystem) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	f.procs.Begin()
	defer f.procs.End()
	ino := in.NodeId
	if in.Offset > math.MaxInt64 || uint64(len(data)) > math.MaxInt64-in.Offset {
		return 0, fuse.Status(syscall.EFBIG)
	}
	kill := in.WriteFlags&fuse.WRITE_KILL_SUIDGID != 0
	if err := f.data.Write(requestContext(cancel, &in.InHeader), ino, data, int64(in.Offset), kill); err != nil {
		return 0, f.status("write", ino, err)
	}
	return uint32(len(data)), fuse.OK
}

// Writev is Write for a request whose payload arrived in pieces.
func (f *fileSystem) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	if len(data) == 1 {
		return f.Write(cancel, in, data[0])
	}
	n := 0
	for _, d := range data {
		n += len(d)
	}
	buf := make([]byte, 0, n)
	for _, d := range data {
		buf = append(buf, d...)
	}
	return f.Write(cancel, in, buf)
}

// Flush runs at every close(2) of a writable handle: buffered writes are
// committed so that an error (ENOSPC, EIO) reaches close, and so that the
// next open anywhere sees them (close-to-open). With shared locks every
// handle gets FLUSH, and it first releases the closer's POSIX locks
// (locks.go).
func (f *fileSystem) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	f.flushLocks(in)
	h, ok := f.files.get(in.Fh)
	if !ok || !h.writable {
		return fuse.OK
	}
	ctx := requestContext(cancel, &in.InHeader)
	if err := f.settled(ctx, h.ino, false); err != nil {
		return f.status("flush", h.ino, err)
	}
	f.procs.Begin()
	defer f.procs.End()
	return f.status("flush", h.ino, f.data.Flush(ctx, h.ino))
}

// Release ends an open. Nobody waits for its reply, so errors are logged.
func (f *fileSystem) Release(cancel <-chan struct{}, in *fuse.ReleaseIn) {
	f.releaseLocks(in)
	h, ok := f.files.remove(in.Fh)
	if !ok {
		f.log.Warn("fuse: release of unknown handle", "fh", in.Fh, "ino", in.NodeId)
		return
	}
	ctx := context.Background() // a release must complete
	if h.writable {
		if _, _, ok := f.data.Reported(h.ino); ok { // something to commit
			f.procs.Begin()
			defer f.procs.End()
		}
		f.logErr("flush at release", h.ino, f.data.Flush(ctx, h.ino))
	}
	f.logErr("release", h.ino, f.meta.Release(ctx, h.ino))
}

// Fsync makes the file's data and all metadata durable: commit buffered
// writes, make the uploaded objects durable, then the metadata. fdatasync
// does the same (the commit is what makes the data reachable).
func (f *fileSystem) Fsync(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	f.procs.Begin()
	defer f.procs.End()
	ctx := requestContext(cancel, &in.InHeader)
	ino := in.NodeId
	if err := f.settled(ctx, ino, true); err != nil {
		return f.status("fsync", ino, err)
	}
	if err := f.data.Flush(ctx, ino); err != nil {
		return f.status("fsync", ino, err)
	}
	if err := f.data.SyncObjects(ctx); err != nil {
		return f.status("fsync", ino, err)
	}
	return f.status("fsync", ino, f.meta.Sync(ctx))
}

// settled returns the error the service answered a create of ino with
// that Meta answered before it (Settler), waiting for the answer if wait
// is set.
func (f *fileSystem) settled(ctx context.Context, ino uint64, wait bool) error {
	if s, ok := f.meta.(Settler); ok {
		return s.Settled(ctx, ino, wait)
	}
	return nil
}

// Fallocate commits buffered writes, lets meta change the layout, and has
// the data path forget what it cached of the file.
func (f *fileSystem) Fallocate(cancel <-chan struct{}, in *fuse.FallocateIn) fuse.Status {
	ctx := requestContext(cancel, &in.InHeader)
	ino := in.NodeId
	if in.Offset > math.MaxInt64 || in.Length > math.MaxInt64-in.Offset {
		return fuse.Status(syscall.EFBIG)
	}
	if err := f.data.Flush(ctx, ino); err != nil {
		return f.status("fallocate", ino, err)
	}
	err := f.meta.Fallocate(ctx, f.caller(&in.InHeader), ino, in.Mode, in.Offset, in.Length)
	f.data.Invalidate(ino)
	return f.status("fallocate", ino, err)
}
