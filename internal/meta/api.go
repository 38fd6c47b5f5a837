package meta

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
)

// Caller identifies who makes a request: the kernel's view of the calling
// process. Permission checks use it; it is always an explicit argument.
type Caller struct {
	UID    uint32
	GID    uint32
	Groups []uint32 // supplementary groups
	PID    uint32
}

// Root is the superuser caller, used by tools (fsck, gc) and tests.
var Root = Caller{}

// InGroup reports whether gid is the caller's primary or a supplementary group.
func (c Caller) InGroup(gid uint32) bool {
	return c.GID == gid || slices.Contains(c.Groups, gid)
}

// Attr is an inode's attributes. Times are Unix nanoseconds.
type Attr struct {
	Ino   uint64
	Mode  uint32 // file type and permission bits, as st_mode
	Nlink uint32
	UID   uint32
	GID   uint32
	Rdev  uint32
	Size  uint64
	Atime int64
	Mtime int64
	Ctime int64
}

// Blocks is the number of 512-byte units the file is charged for.
func (a Attr) Blocks() uint64 { return (a.Size + 511) / 512 }

// IsDir reports whether the inode is a directory.
func (a Attr) IsDir() bool { return a.Mode&syscall.S_IFMT == syscall.S_IFDIR }

// DirEntry is one entry of a directory listing. Cookie is a stable position:
// listing again from Cookie returns the entries after this one.
type DirEntry struct {
	Name   string
	Ino    uint64
	Mode   uint32 // file type bits only unless Attr is set
	Cookie uint64
	Attr   *Attr // set by ReadDir with plus
}

// SetAttr fields: which parts of SetAttrIn are valid.
const (
	SetMode = 1 << iota
	SetUID
	SetGID
	SetSize
	SetAtime
	SetMtime
	SetAtimeNow
	SetMtimeNow
	SetCtime
	SetKillSUID   // clear suid/sgid as a write by this caller would (HANDLE_KILLPRIV_V2)
	SetFromHandle // through an open file (ftruncate): no write permission check
)

// SetAttrIn is a setattr request.
type SetAttrIn struct {
	Valid uint32
	Mode  uint32 // permission bits (and suid/sgid/sticky) only
	UID   uint32
	GID   uint32
	Size  uint64
	Atime int64
	Mtime int64
	Ctime int64
}

// Rename flags, as renameat2(2).
const (
	RenameNoReplace = 1 << 0
	RenameExchange  = 1 << 1
	RenameWhiteout  = 1 << 2
)

// Setxattr flags, as setxattr(2).
const (
	XattrCreate  = 1
	XattrReplace = 2
)

// StatFS describes usage of the file system.
type StatFS struct {
	Files uint64 // inodes in use
	Bytes uint64 // logical bytes stored in regular files
}

// Error is the error every operation of FS returns: the operation, the inode
// (and name, where there is one), and a stable kind, an errno.
type Error struct {
	Op   string
	Ino  uint64
	Name string
	Err  error // a syscall.Errno, possibly wrapping a cause
}

func (e *Error) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("%s %d/%q: %v", e.Op, e.Ino, e.Name, e.Err)
	}
	return fmt.Sprintf("%s %d: %v", e.Op, e.Ino, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Errno returns the errno err carries, or EIO if it carries none.
func Errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var en syscall.Errno
	if errorsAs(err, &en) {
		return en
	}
	return syscall.EIO
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
