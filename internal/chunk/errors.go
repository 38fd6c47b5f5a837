package chunk

import (
	"errors"
	"fmt"
)

var (
	// ErrCorrupt marks an object whose header or checksum does not verify,
	// or a layout that points outside an object. Such errors also wrap
	// syscall.EIO.
	ErrCorrupt = errors.New("corrupt data")
	// ErrClosed is returned by operations on a closed Store.
	ErrClosed = errors.New("store closed")
)

// Error is the error every Store operation returns: the operation, the
// inode (0 when none), the object key (when one object is at fault) and the
// cause, which carries the stable kind (a syscall.Errno, blob.ErrNotFound,
// ErrCorrupt, ...).
type Error struct {
	Op  string
	Ino uint64
	Key string
	Err error
}

func (e *Error) Error() string {
	s := "chunk: " + e.Op
	if e.Ino != 0 {
		s += fmt.Sprintf(" ino %d", e.Ino)
	}
	if e.Key != "" {
		s += " object " + e.Key
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// wrap returns err as an *Error of op on ino, keeping an *Error that
// already names an object as it is.
func wrap(op string, ino uint64, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok && e.Key != "" {
		return err
	}
	return &Error{Op: op, Ino: ino, Err: err}
}
