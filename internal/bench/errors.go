package bench

import (
	"errors"
	"io/fs"
	"syscall"
)

// Error is a failed file-system operation of the benchmark. Err is the
// underlying cause, usually a syscall.Errno, so errors.Is(err,
// syscall.ENOSPC) and errors.Is(err, fs.ErrNotExist) work on it.
type Error struct {
	Op   string // "create", "stat", "write", ...
	Path string
	Err  error
}

func (e *Error) Error() string {
	return e.Op + " " + e.Path + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// opError wraps err as an *Error, reducing an *fs.PathError to its cause so
// the message names the path once.
func opError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &Error{Op: op, Path: path, Err: err}
}

// retryEINTR calls f until it returns something other than EINTR. Requests
// to a FUSE file system can be interrupted by the signals the Go runtime
// sends itself; the os package retries them, and so must raw system calls.
func retryEINTR(f func() error) error {
	for {
		if err := f(); !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
