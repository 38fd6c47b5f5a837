package metrics

import (
	"github.com/hanwen/go-fuse/v2/fuse"
)

// FUSE requests, one op per request kind the kernel sends; the order of
// fuseOpNames.
const (
	fuseLookup = iota
	fuseGetattr
	fuseSetattr
	fuseMknod
	fuseMkdir
	fuseUnlink
	fuseRmdir
	fuseRename
	fuseLink
	fuseSymlink
	fuseReadlink
	fuseAccess
	fuseGetxattr
	fuseListxattr
	fuseSetxattr
	fuseRemovexattr
	fuseCreate
	fuseTmpfile
	fuseOpen
	fuseRead
	fuseLseek
	fuseGetlk
	fuseSetlk
	fuseSetlkw
	fuseWrite
	fuseCopyFileRange
	fuseIoctl
	fuseFlush
	fuseFsync
	fuseFallocate
	fuseOpendir
	fuseReaddir
	fuseReaddirplus
	fuseFsyncdir
	fuseStatfs
	fuseStatx
	fuseForget
	fuseRelease
	fuseReleasedir
)

var fuseOpNames = []string{
	"lookup",
	"getattr",
	"setattr",
	"mknod",
	"mkdir",
	"unlink",
	"rmdir",
	"rename",
	"link",
	"symlink",
	"readlink",
	"access",
	"getxattr",
	"listxattr",
	"setxattr",
	"removexattr",
	"create",
	"tmpfile",
	"open",
	"read",
	"lseek",
	"getlk",
	"setlk",
	"setlkw",
	"write",
	"copy_file_range",
	"ioctl",
	"flush",
	"fsync",
	"fallocate",
	"opendir",
	"readdir",
	"readdirplus",
	"fsyncdir",
	"statfs",
	"statx",
	"forget",
	"release",
	"releasedir",
}

// NewFUSEOps returns the operations of a mount's FUSE requests:
// ferry_fuse_request_duration_seconds{op} and
// ferry_fuse_request_errors_total{op,errno}.
func NewFUSEOps() *Ops {
	return NewOps("ferry_fuse_request", "FUSE request", fuseOpNames)
}

// FUSE returns a decorator of a go-fuse file system that records every
// request in ops (made by NewFUSEOps): fusefs.Options.Wrap.
func FUSE(ops *Ops) func(fuse.RawFileSystem) fuse.RawFileSystem {
	return func(fs fuse.RawFileSystem) fuse.RawFileSystem { return measuredFS{fs, ops} }
}

// measuredFS times every request on its way to the file system beneath
// (fuse_ops.go); what it does not override (Init, String, ...) passes
// through the embedded interface.
type measuredFS struct {
	fuse.RawFileSystem
	ops *Ops
}

var _ fuse.RawFileSystem = measuredFS{}
