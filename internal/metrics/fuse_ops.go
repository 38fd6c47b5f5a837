package metrics

// One method per FUSE request of go-fuse's RawFileSystem, each timing
// the request on its way to the file system beneath. In
// m.done(op, Now(), m.RawFileSystem.X(...)) the clock is read before
// the request runs: the calls in an expression's operands are made in
// lexical left-to-right order (The Go Programming Language
// Specification, "Order of evaluation").

import (
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

func (m measuredFS) Lookup(cancel <-chan struct{}, header *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	return m.done(fuseLookup, Now(), m.RawFileSystem.Lookup(cancel, header, name, out))
}

func (m measuredFS) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	return m.done(fuseGetattr, Now(), m.RawFileSystem.GetAttr(cancel, in, out))
}

func (m measuredFS) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	return m.done(fuseSetattr, Now(), m.RawFileSystem.SetAttr(cancel, in, out))
}

func (m measuredFS) Mknod(cancel <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	return m.done(fuseMknod, Now(), m.RawFileSystem.Mknod(cancel, in, name, out))
}

func (m measuredFS) Mkdir(cancel <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	return m.done(fuseMkdir, Now(), m.RawFileSystem.Mkdir(cancel, in, name, out))
}

func (m measuredFS) Unlink(cancel <-chan struct{}, header *fuse.InHeader, name string) fuse.Status {
	return m.done(fuseUnlink, Now(), m.RawFileSystem.Unlink(cancel, header, name))
}

func (m measuredFS) Rmdir(cancel <-chan struct{}, header *fuse.InHeader, name string) fuse.Status {
	return m.done(fuseRmdir, Now(), m.RawFileSystem.Rmdir(cancel, header, name))
}

func (m measuredFS) Rename(cancel <-chan struct{}, in *fuse.RenameIn, oldName string, newName string) fuse.Status {
	return m.done(fuseRename, Now(), m.RawFileSystem.Rename(cancel, in, oldName, newName))
}

func (m measuredFS) Link(cancel <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	return m.done(fuseLink, Now(), m.RawFileSystem.Link(cancel, in, name, out))
}

func (m measuredFS) Symlink(cancel <-chan struct{}, header *fuse.InHeader, target string, name string, out *fuse.EntryOut) fuse.Status {
	return m.done(fuseSymlink, Now(), m.RawFileSystem.Symlink(cancel, header, target, name, out))
}

func (m measuredFS) Readlink(cancel <-chan struct{}, header *fuse.InHeader) ([]byte, fuse.Status) {
	start := Now()
	r, st := m.RawFileSystem.Readlink(cancel, header)
	m.ops.Since(fuseReadlink, start, syscall.Errno(st))
	return r, st
}

func (m measuredFS) Access(cancel <-chan struct{}, in *fuse.AccessIn) fuse.Status {
	return m.done(fuseAccess, Now(), m.RawFileSystem.Access(cancel, in))
}

func (m measuredFS) GetXAttr(cancel <-chan struct{}, header *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	start := Now()
	r, st := m.RawFileSystem.GetXAttr(cancel, header, attr, dest)
	m.ops.Since(fuseGetxattr, start, syscall.Errno(st))
	return r, st
}

func (m measuredFS) ListXAttr(cancel <-chan struct{}, header *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	start := Now()
	r, st := m.RawFileSystem.ListXAttr(cancel, header, dest)
	m.ops.Since(fuseListxattr, start, syscall.Errno(st))
	return r, st
}

func (m measuredFS) SetXAttr(cancel <-chan struct{}, in *fuse.SetXAttrIn, attr string, data []byte) fuse.Status {
	return m.done(fuseSetxattr, Now(), m.RawFileSystem.SetXAttr(cancel, in, attr, data))
}

func (m measuredFS) RemoveXAttr(cancel <-chan struct{}, header *fuse.InHeader, attr string) fuse.Status {
	return m.done(fuseRemovexattr, Now(), m.RawFileSystem.RemoveXAttr(cancel, header, attr))
}

func (m measuredFS) Create(cancel <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	return m.done(fuseCreate, Now(), m.RawFileSystem.Create(cancel, in, name, out))
}

func (m measuredFS) Tmpfile(cancel <-chan struct{}, in *fuse.CreateIn, out *fuse.CreateOut) fuse.Status {
	return m.done(fuseTmpfile, Now(), m.RawFileSystem.Tmpfile(cancel, in, out))
}

func (m measuredFS) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	return m.done(fuseOpen, Now(), m.RawFileSystem.Open(cancel, in, out))
}

func (m measuredFS) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	start := Now()
	r, st := m.RawFileSystem.Read(cancel, in, buf)
	m.ops.Since(fuseRead, start, syscall.Errno(st))
	return r, st
}

func (m measuredFS) Lseek(cancel <-chan struct{}, in *fuse.LseekIn, out *fuse.LseekOut) fuse.Status {
	return m.done(fuseLseek, Now(), m.RawFileSystem.Lseek(cancel, in, out))
}

func (m measuredFS) GetLk(cancel <-chan struct{}, in *fuse.LkIn, out *fuse.LkOut) fuse.Status {
	return m.done(fuseGetlk, Now(), m.RawFileSystem.GetLk(cancel, in, out))
}

func (m measuredFS) SetLk(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return m.done(fuseSetlk, Now(), m.RawFileSystem.SetLk(cancel, in))
}

func (m measuredFS) SetLkw(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return m.done(fuseSetlkw, Now(), m.RawFileSystem.SetLkw(cancel, in))
}

func (m measuredFS) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	start := Now()
	r, st := m.RawFileSystem.Write(cancel, in, data)
	m.ops.Since(fuseWrite, start, syscall.Errno(st))
	return r, st
}

func (m measuredFS) CopyFileRange(cancel <-chan struct{}, in *fuse.CopyFileRangeIn) (uint32, fuse.Status) {
	start := Now()
	r, st := m.RawFileSystem.CopyFileRange(cancel, in)
	m.ops.Since(fuseCopyFileRange, start, syscall.Errno(st))
	return r, st
}

func (m measuredFS) Ioctl(cancel <-chan struct{}, in *fuse.IoctlIn, inbuf []byte, out *fuse.IoctlOut, outbuf []byte) fuse.Status {
	return m.done(fuseIoctl, Now(), m.RawFileSystem.Ioctl(cancel, in, inbuf, out, outbuf))
}

func (m measuredFS) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	return m.done(fuseFlush, Now(), m.RawFileSystem.Flush(cancel, in))
}

func (m measuredFS) Fsync(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	return m.done(fuseFsync, Now(), m.RawFileSystem.Fsync(cancel, in))
}

func (m measuredFS) Fallocate(cancel <-chan struct{}, in *fuse.FallocateIn) fuse.Status {
	return m.done(fuseFallocate, Now(), m.RawFileSystem.Fallocate(cancel, in))
}

func (m measuredFS) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	return m.done(fuseOpendir, Now(), m.RawFileSystem.OpenDir(cancel, in, out))
}

func (m measuredFS) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return m.done(fuseReaddir, Now(), m.RawFileSystem.ReadDir(cancel, in, out))
}

func (m measuredFS) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return m.done(fuseReaddirplus, Now(), m.RawFileSystem.ReadDirPlus(cancel, in, out))
}

func (m measuredFS) FsyncDir(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	return m.done(fuseFsyncdir, Now(), m.RawFileSystem.FsyncDir(cancel, in))
}

func (m measuredFS) StatFs(cancel <-chan struct{}, header *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	return m.done(fuseStatfs, Now(), m.RawFileSystem.StatFs(cancel, header, out))
}

func (m measuredFS) Statx(cancel <-chan struct{}, in *fuse.StatxIn, out *fuse.StatxOut) fuse.Status {
	return m.done(fuseStatx, Now(), m.RawFileSystem.Statx(cancel, in, out))
}

func (m measuredFS) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	start := Now()
	n, st := m.RawFileSystem.Writev(cancel, in, data)
	if st != fuse.ENOSYS { // else go-fuse calls Write, which counts it
		m.ops.Since(fuseWrite, start, syscall.Errno(st))
	}
	return n, st
}

func (m measuredFS) Forget(nodeid, nlookup uint64) {
	start := Now()
	m.RawFileSystem.Forget(nodeid, nlookup)
	m.ops.Since(fuseForget, start, 0)
}

func (m measuredFS) Release(cancel <-chan struct{}, in *fuse.ReleaseIn) {
	start := Now()
	m.RawFileSystem.Release(cancel, in)
	m.ops.Since(fuseRelease, start, 0)
}

func (m measuredFS) ReleaseDir(in *fuse.ReleaseIn) {
	start := Now()
	m.RawFileSystem.ReleaseDir(in)
	m.ops.Since(fuseReleasedir, start, 0)
}

// done records op, started at start, and returns its status.
func (m measuredFS) done(op int, start Tick, st fuse.Status) fuse.Status {
	m.ops.Since(op, start, syscall.Errno(st))
	return st
}
