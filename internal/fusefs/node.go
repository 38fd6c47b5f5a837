package fusefs

import (
	"errors"
	"syscall"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Lookup resolves a name. A missing name is answered with node id 0 and
// the negative timeout, so the kernel caches its absence.
func (f *fileSystem) Lookup(cancel <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	a, err := f.meta.Lookup(requestContext(cancel, h), f.caller(h), h.NodeId, name)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) && f.opts.NegativeTimeout > 0 {
			f.fillNegative(out)
			return fuse.OK
		}
		return f.status("lookup", h.NodeId, err)
	}
	f.fillEntry(out, a)
	return fuse.OK
}

// GetAttr returns an inode's attributes with its buffered writes laid over.
func (f *fileSystem) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	a, err := f.meta.GetAttr(requestContext(cancel, &in.InHeader), in.NodeId)
	if err != nil {
		return f.status("getattr", in.NodeId, err)
	}
	f.fillAttr(out, a)
	return fuse.OK
}

// Setattr fields that the commit of buffered writes would overwrite (size,
// mtime, ctime): buffered writes are committed before meta changes them.
const flushFirst = fuse.FATTR_SIZE | fuse.FATTR_MTIME | fuse.FATTR_MTIME_NOW | fuse.FATTR_CTIME

// SetAttr implements chmod, chown, truncate and utimensat. A size or time
// change first commits the file's buffered writes, so that bytes below a
// new size are kept and a commit cannot later overwrite the new mtime;
// a size change then drops what the data path holds past it.
func (f *fileSystem) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	ctx := requestContext(cancel, &in.InHeader)
	ino := in.NodeId
	if in.Valid&flushFirst != 0 {
		if err := f.data.Flush(ctx, ino); err != nil {
			return f.status("setattr", ino, err)
		}
	}
	if in.Valid&fuse.FATTR_SIZE != 0 {
		f.data.Truncate(ino, in.Size)
	}
	a, err := f.meta.SetAttr(ctx, f.caller(&in.InHeader), ino, setAttrIn(in))
	if err != nil {
		return f.status("setattr", ino, err)
	}
	if in.Valid&flushFirst != 0 {
		// The size or times the data path still reports from its last
		// commit are superseded.
		f.data.Invalidate(ino)
	}
	f.fillAttr(out, a)
	return fuse.OK
}

// setAttrIn translates a FUSE setattr into meta's.
func setAttrIn(in *fuse.SetAttrIn) meta.SetAttrIn {
	var m meta.SetAttrIn
	v := in.Valid
	if v&fuse.FATTR_MODE != 0 {
		m.Valid |= meta.SetMode
		m.Mode = in.Mode & 0o7777
	}
	if v&fuse.FATTR_UID != 0 {
		m.Valid |= meta.SetUID
		m.UID = in.Uid
	}
	if v&fuse.FATTR_GID != 0 {
		m.Valid |= meta.SetGID
		m.GID = in.Gid
	}
	if v&fuse.FATTR_SIZE != 0 {
		m.Valid |= meta.SetSize
		m.Size = in.Size
		if v&fuse.FATTR_FH != 0 {
			m.Valid |= meta.SetFromHandle // ftruncate: the open checked access
		}
	}
	switch {
	case v&fuse.FATTR_ATIME_NOW != 0:
		m.Valid |= meta.SetAtimeNow
	case v&fuse.FATTR_ATIME != 0:
		m.Valid |= meta.SetAtime
		m.Atime = joinNs(in.Atime, in.Atimensec)
	}
	switch {
	case v&fuse.FATTR_MTIME_NOW != 0:
		m.Valid |= meta.SetMtimeNow
	case v&fuse.FATTR_MTIME != 0:
		m.Valid |= meta.SetMtime
		m.Mtime = joinNs(in.Mtime, in.Mtimensec)
	}
	if v&fuse.FATTR_CTIME != 0 {
		m.Valid |= meta.SetCtime
		m.Ctime = joinNs(in.Ctime, in.Ctimensec)
	}
	if v&fuse.FATTR_KILL_SUIDGID != 0 {
		m.Valid |= meta.SetKillSUID
	}
	// A setattr that changes nothing is how the kernel, with
	// HANDLE_KILLPRIV_V2, asks the server to drop suid/sgid: from chown(2)
	// with both ids -1 (by anyone, root included), and before a write by a
	// caller without CAP_FSETID. For a directory it only touches ctime.
	if v&^(fuse.FATTR_FH|fuse.FATTR_LOCKOWNER) == 0 {
		m.Valid |= meta.SetKillSUID
	}
	return m
}

// Access implements access(2). With default_permissions the kernel
// checks modes itself and rarely asks.
func (f *fileSystem) Access(cancel <-chan struct{}, in *fuse.AccessIn) fuse.Status {
	err := f.meta.Access(requestContext(cancel, &in.InHeader), f.caller(&in.InHeader), in.NodeId, in.Mask)
	return f.status("access", in.NodeId, err)
}

// Readlink returns a symlink's target; the kernel caches it (symlinks
// never change).
func (f *fileSystem) Readlink(cancel <-chan struct{}, h *fuse.InHeader) ([]byte, fuse.Status) {
	target, err := f.meta.Readlink(requestContext(cancel, h), h.NodeId)
	if err != nil {
		return nil, f.status("readlink", h.NodeId, err)
	}
	return []byte(target), fuse.OK
}
