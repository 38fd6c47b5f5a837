package fusefs

import (
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Mknod makes a regular file, fifo, socket or device node. The mode
// arrives without the umask applied (DONT_MASK); meta applies it unless
// the directory has a default ACL.
func (f *fileSystem) Mknod(cancel <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	a, err := f.meta.Mknod(meta.WithUmask(requestContext(cancel, &in.InHeader), in.Umask), f.caller(&in.InHeader), in.NodeId, name, in.Mode, in.Rdev)
	if err != nil {
		return f.status("mknod", in.NodeId, err)
	}
	f.fillEntry(out, a)
	return fuse.OK
}

// Mkdir makes a directory; the umask is meta's to apply, as for Mknod.
func (f *fileSystem) Mkdir(cancel <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	a, err := f.meta.Mkdir(meta.WithUmask(requestContext(cancel, &in.InHeader), in.Umask), f.caller(&in.InHeader), in.NodeId, name, in.Mode)
	if err != nil {
		return f.status("mkdir", in.NodeId, err)
	}
	f.fillEntry(out, a)
	return fuse.OK
}

// Symlink makes linkName in the directory h.NodeId point to target.
func (f *fileSystem) Symlink(cancel <-chan struct{}, h *fuse.InHeader, target, linkName string, out *fuse.EntryOut) fuse.Status {
	a, err := f.meta.Symlink(requestContext(cancel, h), f.caller(h), h.NodeId, linkName, target)
	if err != nil {
		return f.status("symlink", h.NodeId, err)
	}
	f.fillEntry(out, a)
	return fuse.OK
}

// Link makes a hard link to in.Oldnodeid named name in directory in.NodeId.
func (f *fileSystem) Link(cancel <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	a, err := f.meta.Link(requestContext(cancel, &in.InHeader), f.caller(&in.InHeader), in.Oldnodeid, in.NodeId, name)
	if err != nil {
		return f.status("link", in.Oldnodeid, err)
	}
	f.fillEntry(out, a)
	return fuse.OK
}

// Unlink removes a name; an open file lives on until its last release.
func (f *fileSystem) Unlink(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	err := f.meta.Unlink(requestContext(cancel, h), f.caller(h), h.NodeId, name)
	return f.status("unlink", h.NodeId, err)
}

// Rmdir removes an empty directory.
func (f *fileSystem) Rmdir(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	err := f.meta.Rmdir(requestContext(cancel, h), f.caller(h), h.NodeId, name)
	return f.status("rmdir", h.NodeId, err)
}

// Rename implements rename and renameat2; RENAME_NOREPLACE, EXCHANGE and
// WHITEOUT have the same values in FUSE and meta.
func (f *fileSystem) Rename(cancel <-chan struct{}, in *fuse.RenameIn, oldName, newName string) fuse.Status {
	err := f.meta.Rename(requestContext(cancel, &in.InHeader), f.caller(&in.InHeader), in.NodeId, oldName, in.Newdir, newName, in.Flags)
	return f.status("rename", in.NodeId, err)
}
