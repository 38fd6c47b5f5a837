package fusefs

import (
	"context"
	"syscall"
	"unsafe"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Directory offsets: "." is 1 and ".." is 2; every other entry's offset is
// the Cookie meta gave it, which is at least firstCookie. The kernel sends
// back the offset of the last entry it consumed, and listing resumes after
// it.
const (
	dotOff      = 1
	dotDotOff   = 2
	firstCookie = 3

	rootIno = fuse.FUSE_ROOT_ID

	maxDirRounds = 64 // meta calls per READDIR, a bound against a misbehaving cookie
)

// Smallest space one entry takes in a READDIR / READDIRPLUS reply (a
// one-byte name padded to 8): dividing the buffer size by it bounds how
// many entries can fit.
const (
	minDirent     = 24 + 8 // struct fuse_dirent + padded name
	minDirentPlus = int(unsafe.Sizeof(fuse.EntryOut{})) + minDirent
)

// OpenDir opens a directory. meta counts the open, so that a directory
// removed while open lives on (empty, nlink 0) until its release. Listing
// caches are kept across opens; the kernel drops them itself when it
// changes the directory.
func (f *fileSystem) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	ctx := requestContext(cancel, &in.InHeader)
	if _, err := f.meta.Open(ctx, f.caller(&in.InHeader), in.NodeId, in.Flags); err != nil {
		return f.status("opendir", in.NodeId, err)
	}
	out.Fh = 0
	out.OpenFlags = fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE
	return fuse.OK
}

// ReleaseDir ends an OpenDir.
func (f *fileSystem) ReleaseDir(in *fuse.ReleaseIn) {
	f.logErr("releasedir", in.NodeId, f.meta.Release(context.Background(), in.NodeId))
}

// FsyncDir makes the metadata durable. Objects are made durable first:
// a metadata sync makes every earlier commit durable, and the objects
// those commits reference must not be lost while they are not.
func (f *fileSystem) FsyncDir(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	ctx := requestContext(cancel, &in.InHeader)
	if err := f.data.SyncObjects(ctx); err != nil {
		return f.status("fsyncdir", in.NodeId, err)
	}
	return f.status("fsyncdir", in.NodeId, f.meta.Sync(ctx))
}

// ReadDir lists names and types.
func (f *fileSystem) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return f.readDir(cancel, in, out, false)
}

// ReadDirPlus lists names with their attributes, so that a listing
// followed by stat of every entry (ls -l) costs no further request.
func (f *fileSystem) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return f.readDir(cancel, in, out, true)
}

func (f *fileSystem) readDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList, plus bool) fuse.Status {
	ctx := requestContext(cancel, &in.InHeader)
	c := f.caller(&in.InHeader)
	ino := in.NodeId
	if in.Offset == 0 {
		f.accessed(ctx, ino) // a listing from its start reads the directory
	}
	add := func(e fuse.DirEntry, a *meta.Attr) bool {
		if !plus {
			return out.AddDirEntry(e)
		}
		eo := out.AddDirLookupEntry(e)
		if eo == nil {
			return false
		}
		if a != nil { // node id 0: a name without attributes
			f.fillEntry(eo, *a)
		}
		return true
	}

	off := in.Offset
	if off < dotOff {
		if !add(fuse.DirEntry{Name: ".", Ino: ino, Mode: syscall.S_IFDIR, Off: dotOff}, nil) {
			return fuse.OK
		}
	}
	if off < dotDotOff {
		if !add(fuse.DirEntry{Name: "..", Ino: f.parentOf(ctx, c, ino), Mode: syscall.S_IFDIR, Off: dotDotOff}, nil) {
			return fuse.OK
		}
	}

	cookie := off
	if cookie < firstCookie {
		cookie = 0
	}
	per := minDirent
	if plus {
		per = minDirentPlus
	}
	limit := int(in.Size)/per + 1
	for range maxDirRounds {
		ents, err := f.meta.ReadDir(ctx, c, ino, cookie, limit, plus)
		if err != nil {
			return f.status("readdir", ino, err)
		}
		for i := range ents {
			e := &ents[i]
			if e.Cookie < firstCookie || e.Cookie < cookie {
				f.log.Error("fuse: readdir cookie out of order", "ino", ino, "after", cookie, "cookie", e.Cookie, "name", e.Name)
				return fuse.EIO
			}
			if !add(fuse.DirEntry{Name: e.Name, Ino: e.Ino, Mode: e.Mode, Off: e.Cookie}, e.Attr) {
				return fuse.OK
			}
			cookie = e.Cookie
		}
		if len(ents) < limit {
			return fuse.OK
		}
	}
	return fuse.OK
}

// parentOf returns the inode number ".." of directory ino lists, or 0
// (shown as unknown) if meta cannot say. The root is its own parent. It
// asks as the caller of the listing: a client acts as nobody else.
func (f *fileSystem) parentOf(ctx context.Context, c meta.Caller, ino uint64) uint64 {
	if ino == rootIno {
		return rootIno
	}
	a, err := f.meta.Lookup(ctx, c, ino, "..")
	if err != nil {
		return 0
	}
	return a.Ino
}
