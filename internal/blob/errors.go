package blob

import (
	"errors"
	"fmt"
)

// ErrInvalidKey is the kind of every error caused by a key that breaks the
// rules CheckKey enforces.
var ErrInvalidKey = errors.New("blob: invalid key")

// ErrInvalidRange is the kind of the error Get returns for a negative offset.
var ErrInvalidRange = errors.New("blob: invalid range")

// OpError records a failed store operation: what was attempted, on which
// key (or List prefix), and why. Err keeps the cause, so errors.Is sees
// through an OpError to ErrNotFound, ErrInvalidKey, context.Canceled or a
// syscall.Errno such as ENOSPC.
type OpError struct {
	Op  string // "put", "get", "delete", "list", "sync"
	Key string // the key, the List prefix, or empty
	Err error
}

func (e *OpError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("blob %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("blob %s %q: %v", e.Op, e.Key, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// CheckRange returns an error of kind ErrInvalidRange if off is negative.
// Any length is valid: negative means "to the end".
func CheckRange(off int64) error {
	if off < 0 {
		return fmt.Errorf("%w: negative offset %d", ErrInvalidRange, off)
	}
	return nil
}

// Clip returns the part of data that a Get of (off, length) reads, with the
// semantics of Store.Get. off must have passed CheckRange.
func Clip(data []byte, off, length int64) []byte {
	size := int64(len(data))
	if off >= size {
		return data[:0]
	}
	end := size
	if length >= 0 && length < size-off {
		end = off + length
	}
	return data[off:end]
}
