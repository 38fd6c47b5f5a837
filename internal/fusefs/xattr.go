package fusefs

import (
	"github.com/hanwen/go-fuse/v2/fuse"
)

// GetXAttr returns a value. An empty dest is a size probe; a dest too
// small is ERANGE (go-fuse turns the size into the reply of a probe).
func (f *fileSystem) GetXAttr(cancel <-chan struct{}, h *fuse.InHeader, name string, dest []byte) (uint32, fuse.Status) {
	v, err := f.meta.GetXattr(requestContext(cancel, h), f.caller(h), h.NodeId, name)
	if err != nil {
		return 0, f.status("getxattr", h.NodeId, err)
	}
	return copyOut(dest, v)
}

// ListXAttr returns the names, each followed by a NUL byte.
func (f *fileSystem) ListXAttr(cancel <-chan struct{}, h *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	names, err := f.meta.ListXattr(requestContext(cancel, h), f.caller(h), h.NodeId)
	if err != nil {
		return 0, f.status("listxattr", h.NodeId, err)
	}
	return copyOut(dest, joinNames(names))
}

// joinNames lays names out as listxattr(2) returns them.
func joinNames(names []string) []byte {
	n := 0
	for _, s := range names {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	for _, s := range names {
		b = append(b, s...)
		b = append(b, 0)
	}
	return b
}

// copyOut answers a getxattr/listxattr with buffer dest.
func copyOut(dest, v []byte) (uint32, fuse.Status) {
	if len(dest) == 0 {
		return uint32(len(v)), fuse.OK
	}
	if len(v) > len(dest) {
		return uint32(len(v)), fuse.ERANGE
	}
	return uint32(copy(dest, v)), fuse.OK
}

// SetXAttr sets a value; XATTR_CREATE and XATTR_REPLACE have the same
// values in FUSE and meta.
func (f *fileSystem) SetXAttr(cancel <-chan struct{}, in *fuse.SetXAttrIn, name string, value []byte) fuse.Status {
	err := f.meta.SetXattr(requestContext(cancel, &in.InHeader), f.caller(&in.InHeader), in.NodeId, name, value, in.Flags)
	return f.status("setxattr", in.NodeId, err)
}

// RemoveXAttr removes a name.
func (f *fileSystem) RemoveXAttr(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	err := f.meta.RemoveXattr(requestContext(cancel, h), f.caller(h), h.NodeId, name)
	return f.status("removexattr", h.NodeId, err)
}

// statfs block size: df counts in these units.
const statBlock = 4096

// StatFs reports capacity from Options.Disk and inode use from meta. Free
// inodes are estimated as one per free block: objects hold inodes' data,
// and the metadata of an inode is smaller than a block.
func (f *fileSystem) StatFs(cancel <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	st, err := f.meta.StatFS(requestContext(cancel, h))
	if err != nil {
		return f.status("statfs", h.NodeId, err)
	}
	var total, free uint64
	if f.opts.Disk != nil {
		total, free, err = f.opts.Disk()
		if err != nil {
			return f.status("statfs", h.NodeId, err)
		}
	} else {
		// An object store without a stated limit: 1 PiB, less what is
		// stored.
		total = 1 << 50
		free = total - min(st.Bytes, total)
	}
	*out = fuse.StatfsOut{
		Blocks:  total / statBlock,
		Bfree:   free / statBlock,
		Bavail:  free / statBlock,
		Ffree:   free / statBlock,
		Bsize:   statBlock,
		Frsize:  statBlock,
		NameLen: 255,
	}
	out.Files = st.Files + out.Ffree
	return fuse.OK
}
