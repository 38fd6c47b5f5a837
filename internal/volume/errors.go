package volume

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// Stable kinds of the errors Open returns; test with errors.Is.
var (
	// ErrInUse: another process has the volume open. The error is an
	// *InUseError.
	ErrInUse = errors.New("volume in use")
	// ErrNotVolume: the directory is not a Ferry volume.
	ErrNotVolume = errors.New("not a Ferry volume")
	// ErrNewerFormat: the volume was written by a newer Ferry.
	ErrNewerFormat = errors.New("volume format is newer than this program")
	// ErrMismatch: FERRY and the metadata describe different volumes.
	ErrMismatch = errors.New("volume marker does not match its metadata")
	// ErrNotExist: the volume directory does not exist, or the engine
	// holds no volume.
	ErrNotExist = fs.ErrNotExist
	// ErrExist: formatting found a volume there already.
	ErrExist = fs.ErrExist
)

// InUseError reports that another process holds the volume's LOCK, or
// the lock of a metadata engine.
type InUseError struct {
	Dir string // or the engine's URL
	PID int    // 0 if the holder did not record it
	// Holder describes the holder when the engine says who it is
	// ("ferry pid 42 on host7").
	Holder string
}

func (e *InUseError) Error() string {
	if e.Holder != "" {
		return fmt.Sprintf("volume %s is in use by another ferry process (%s)", e.Dir, e.Holder)
	}
	if e.PID > 0 {
		return fmt.Sprintf("volume %s is in use by another ferry process (pid %d)", e.Dir, e.PID)
	}
	return fmt.Sprintf("volume %s is in use by another ferry process", e.Dir)
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// kindError is an error with a fixed message and a stable kind; it may wrap
// a cause as well.
type kindError struct {
	msg   string
	kind  error
	cause error
}

func (e *kindError) Error() string { return e.msg }

func (e *kindError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func kindErrorf(kind, cause error, format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kind: kind, cause: cause}
}

// ioError turns a failure of the file system under the volume into one
// line naming the volume, the step and the reason, e.g.
// "volume /v: create LOCK: read-only file system". It keeps the cause for
// errors.Is (fs.ErrPermission, syscall.EROFS, ...).
func ioError(dir, step string, err error) error {
	reason := err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		reason = errno.Error()
	}
	return &kindError{msg: fmt.Sprintf("volume %s: %s: %s", dir, step, reason), kind: err}
}
