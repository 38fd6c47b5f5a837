package meta

import (
	"context"
	"errors"
	"syscall"

	"github.com/ferryfs/ferry/internal/chunk"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

var errTodo = syscall.ENOSYS

func (fs *FS) Lookup(ctx context.Context, c Caller, parent uint64, name string) (Attr, error) {
	return Attr{}, errTodo
}
func (fs *FS) GetAttr(ctx context.Context, ino uint64) (Attr, error) { return Attr{}, errTodo }
func (fs *FS) SetAttr(ctx context.Context, c Caller, ino uint64, in SetAttrIn) (Attr, error) {
	return Attr{}, errTodo
}
func (fs *FS) Mknod(ctx context.Context, c Caller, parent uint64, name string, mode, rdev uint32) (Attr, error) {
	return Attr{}, errTodo
}
func (fs *FS) Mkdir(ctx context.Context, c Caller, parent uint64, name string, mode uint32) (Attr, error) {
	return Attr{}, errTodo
}

// Create makes a regular file and opens it (as Open does) in one step.
// flags are the open(2) flags; O_EXCL is implied for an existing name.
func (fs *FS) Create(ctx context.Context, c Caller, parent uint64, name string, mode, flags uint32) (Attr, error) {
	return Attr{}, errTodo
}
func (fs *FS) Symlink(ctx context.Context, c Caller, parent uint64, name, target string) (Attr, error) {
	return Attr{}, errTodo
}
func (fs *FS) Readlink(ctx context.Context, ino uint64) (string, error) { return "", errTodo }
func (fs *FS) Link(ctx context.Context, c Caller, ino, newParent uint64, newName string) (Attr, error) {
	return Attr{}, errTodo
}
func (fs *FS) Unlink(ctx context.Context, c Caller, parent uint64, name string) error { return errTodo }
func (fs *FS) Rmdir(ctx context.Context, c Caller, parent uint64, name string) error  { return errTodo }
func (fs *FS) Rename(ctx context.Context, c Caller, oldParent uint64, oldName string, newParent uint64, newName string, flags uint32) error {
	return errTodo
}

// Open checks that c may open ino with the open(2) flags, applies O_TRUNC,
// and counts the open so that an unlinked file lives until its last Release.
func (fs *FS) Open(ctx context.Context, c Caller, ino uint64, flags uint32) (Attr, error) {
	return Attr{}, errTodo
}

// Release ends one Open or Create of ino.
func (fs *FS) Release(ctx context.Context, ino uint64) error { return errTodo }

// Access checks access(2) mask (R_OK=4, W_OK=2, X_OK=1, F_OK=0).
func (fs *FS) Access(ctx context.Context, c Caller, ino uint64, mask uint32) error { return errTodo }

// ReadDir lists up to max entries of directory ino after cookie (0 starts
// at the beginning); "." and ".." are not included. With plus each entry
// carries its attributes.
func (fs *FS) ReadDir(ctx context.Context, c Caller, ino, cookie uint64, max int, plus bool) ([]DirEntry, error) {
	return nil, errTodo
}
func (fs *FS) GetXattr(ctx context.Context, c Caller, ino uint64, name string) ([]byte, error) {
	return nil, errTodo
}
func (fs *FS) ListXattr(ctx context.Context, c Caller, ino uint64) ([]string, error) {
	return nil, errTodo
}
func (fs *FS) SetXattr(ctx context.Context, c Caller, ino uint64, name string, value []byte, flags uint32) error {
	return errTodo
}
func (fs *FS) RemoveXattr(ctx context.Context, c Caller, ino uint64, name string) error {
	return errTodo
}
func (fs *FS) StatFS(ctx context.Context) (StatFS, error) { return StatFS{}, errTodo }

// GetLayout returns the blocks of ino in [first, first+count) that hold
// data; blocks that are wholly holes are omitted.
func (fs *FS) GetLayout(ctx context.Context, ino uint64, first, count uint64) ([]chunk.Block, error) {
	return nil, errTodo
}

// NewObjectIDs reserves n fresh object ids and returns the first.
func (fs *FS) NewObjectIDs(ctx context.Context, n int) (uint64, error) { return 0, errTodo }

// CommitWrite lays the uploaded pieces of w over ino's blocks, extends its
// size and sets its mtime, in one transaction.
func (fs *FS) CommitWrite(ctx context.Context, ino uint64, w chunk.Write) error { return errTodo }

// Fallocate implements fallocate(2) modes 0, KEEP_SIZE, PUNCH_HOLE and
// ZERO_RANGE.
func (fs *FS) Fallocate(ctx context.Context, c Caller, ino uint64, mode uint32, off, length uint64) error {
	return errTodo
}

// Sync makes every committed change durable.
func (fs *FS) Sync(ctx context.Context) error { return errTodo }
