package fusefs

import (
	"context"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/meta"
)

// Meta is the metadata service as the FUSE adapter uses it. Every method
// returns an error that carries a syscall.Errno (errors.As) when it is one
// the caller should see; anything else becomes EIO and a log line.
type Meta interface {
	Lookup(ctx context.Context, c meta.Caller, parent uint64, name string) (meta.Attr, error)
	GetAttr(ctx context.Context, ino uint64) (meta.Attr, error)
	SetAttr(ctx context.Context, c meta.Caller, ino uint64, in meta.SetAttrIn) (meta.Attr, error)
	Mknod(ctx context.Context, c meta.Caller, parent uint64, name string, mode, rdev uint32) (meta.Attr, error)
	Mkdir(ctx context.Context, c meta.Caller, parent uint64, name string, mode uint32) (meta.Attr, error)
	Create(ctx context.Context, c meta.Caller, parent uint64, name string, mode, flags uint32) (meta.Attr, error)
	Tmpfile(ctx context.Context, c meta.Caller, parent uint64, mode uint32) (meta.Attr, error)
	Symlink(ctx context.Context, c meta.Caller, parent uint64, name, target string) (meta.Attr, error)
	Readlink(ctx context.Context, ino uint64) (string, error)
	Link(ctx context.Context, c meta.Caller, ino, newParent uint64, newName string) (meta.Attr, error)
	Unlink(ctx context.Context, c meta.Caller, parent uint64, name string) error
	Rmdir(ctx context.Context, c meta.Caller, parent uint64, name string) error
	Rename(ctx context.Context, c meta.Caller, oldParent uint64, oldName string, newParent uint64, newName string, flags uint32) error
	Open(ctx context.Context, c meta.Caller, ino uint64, flags uint32) (meta.Attr, error)
	Release(ctx context.Context, ino uint64) error
	Accessed(ctx context.Context, ino uint64) (bool, error)
	Hold(ctx context.Context, ino uint64) error
	Access(ctx context.Context, c meta.Caller, ino uint64, mask uint32) error
	ReadDir(ctx context.Context, c meta.Caller, ino, cookie uint64, max int, plus bool) ([]meta.DirEntry, error)
	GetXattr(ctx context.Context, c meta.Caller, ino uint64, name string) ([]byte, error)
	ListXattr(ctx context.Context, c meta.Caller, ino uint64) ([]string, error)
	SetXattr(ctx context.Context, c meta.Caller, ino uint64, name string, value []byte, flags uint32) error
	RemoveXattr(ctx context.Context, c meta.Caller, ino uint64, name string) error
	StatFS(ctx context.Context) (meta.StatFS, error)
	Fallocate(ctx context.Context, c meta.Caller, ino uint64, mode uint32, off, length uint64) error
	Sync(ctx context.Context) error
}

var _ Meta = (*meta.FS)(nil)

// Lessee is implemented by a Meta whose answers the kernel may cache only
// while a lease holds them (a remote service): it is told of every node
// id a reply hands the kernel, before the reply is sent, and of every
// FORGET, so that it holds its leases exactly as long as the kernel
// holds the inodes.
type Lessee interface {
	Looked(ino uint64)
	Forgot(ino, nlookup uint64)
	// Referenced reports whether the kernel holds ino or is being handed
	// it (Looked more often than Forgot).
	Referenced(ino uint64) bool
}

// Settler is implemented by a Meta that answers some creates before the
// service behind it has (a remote service, in a directory it delegated):
// Settled returns the error the service answered the create of ino with,
// once, after waiting for that answer if wait is set. fsync waits; close
// reports an answer that came already.
type Settler interface {
	Settled(ctx context.Context, ino uint64, wait bool) error
}

// dataPath is the part of *chunk.Store the adapter calls. It is an
// interface only so that unit tests can observe the calls.
type dataPath interface {
	Write(ctx context.Context, ino uint64, p []byte, off int64, killSUID bool) error
	ReadSlices(ctx context.Context, ino uint64, p []byte, off int64, size uint64) ([][]byte, int, error)
	Reported(ino uint64) (size uint64, mtime int64, ok bool)
	Flush(ctx context.Context, ino uint64) error
	FlushAll(ctx context.Context) error
	SyncObjects(ctx context.Context) error
	Truncate(ino uint64, size uint64)
	Invalidate(ino uint64)
}

var _ dataPath = (*chunk.Store)(nil)
