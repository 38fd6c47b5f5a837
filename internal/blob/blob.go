// Package blob defines the object store that holds file contents as
// immutable objects. Backends (the local directory default, the in-memory
// reference, S3-compatible services) implement Store and pass the shared
// conformance suite in blob/blobtest. Cross-cutting concerns (retries, fault
// injection, metrics) are decorators that implement Store themselves.
package blob

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Get for a missing object.
var ErrNotFound = errors.New("blob: object not found")

// Object describes one stored object.
type Object struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is an object store of immutable objects addressed by key. Keys are
// slash-separated printable ASCII without "." or ".." components.
type Store interface {
	// Put stores data under key, replacing nothing: callers never reuse a
	// key for different contents. When Put returns the object is readable;
	// it is durable once Put returns on stores without a Syncer, and after
	// Sync on stores that implement Syncer.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns length bytes of the object starting at off. A negative
	// length means "to the end". Reading past the end returns the bytes
	// that exist (possibly none). A missing object is ErrNotFound.
	Get(ctx context.Context, key string, off, length int64) ([]byte, error)
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key starts with prefix, in
	// ascending key order, stopping at the first error fn returns.
	List(ctx context.Context, prefix string, fn func(Object) error) error
}

// Syncer is implemented by stores whose Put is not immediately durable.
type Syncer interface {
	// Sync makes every object Put so far durable.
	Sync(ctx context.Context) error
}

// Sync makes s durable if it needs to be.
func Sync(ctx context.Context, s Store) error {
	if sy, ok := s.(Syncer); ok {
		return sy.Sync(ctx)
	}
	return nil
}
