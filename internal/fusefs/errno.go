package fusefs

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// errnoOf maps an error to the errno the kernel should see, and reports
// whether the error was expected (it carried an errno of its own, or was a
// cancellation). Unexpected errors become EIO.
func errnoOf(err error) (syscall.Errno, bool) {
	if err == nil {
		return 0, true
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		if en == 0 {
			return syscall.EIO, false
		}
		return en, true
	}
	if errors.Is(err, context.Canceled) {
		return syscall.EINTR, true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return syscall.ETIMEDOUT, true
	}
	return syscall.EIO, false
}

// status converts err into a reply status. Errors without an errno, and
// EIO itself, are logged with the operation and inode: the application
// only sees "I/O error", the log says why.
func (f *fileSystem) status(op string, ino uint64, err error) fuse.Status {
	if err == nil {
		return fuse.OK
	}
	en, known := errnoOf(err)
	if !known {
		f.log.Error("fuse: unexpected error", "op", op, "ino", ino, "err", err)
	} else if en == syscall.EIO {
		f.log.Warn("fuse: I/O error", "op", op, "ino", ino, "err", err)
	}
	return fuse.Status(en)
}

// logErr logs an error of an operation that has no reply to carry it
// (release, a flush at release).
func (f *fileSystem) logErr(op string, ino uint64, err error) {
	if err == nil {
		return
	}
	lvl := slog.LevelWarn
	if _, known := errnoOf(err); !known {
		lvl = slog.LevelError
	}
	f.log.Log(context.Background(), lvl, "fuse: "+op+" failed", "ino", ino, "err", err)
}
