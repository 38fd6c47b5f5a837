// Package kv defines the small transactional key-value interface the metadata
// service is written against. Every backend (the embedded default, the
// in-memory reference, distributed engines) implements Store and passes the
// shared conformance suite in kv/kvtest.
package kv

import (
	"context"
	"errors"
)

// ErrNotFound is returned by Get when the key does not exist.
var ErrNotFound = errors.New("kv: key not found")

// ErrConflict is returned by Update when a transaction could not be committed
// because of a concurrent conflicting transaction and retries were exhausted.
var ErrConflict = errors.New("kv: transaction conflict")

// ErrClosed is returned by any operation on a closed Store.
var ErrClosed = errors.New("kv: store closed")

// Reader reads one consistent snapshot of the store.
//
// Byte slices passed to Scan's callback are only valid during the call; the
// slice returned by Get belongs to the caller.
type Reader interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(key []byte) ([]byte, error)
	// Scan calls fn for every key in [start, end) in ascending byte order
	// until fn returns false. A nil end means "no upper bound". fn must not
	// call Set or Delete on the same transaction.
	Scan(start, end []byte, fn func(key, value []byte) bool) error
}

// Txn is a serializable read-write transaction. Reads observe the
// transaction's own writes.
type Txn interface {
	Reader
	// Set stores value under key. The store copies both slices.
	Set(key, value []byte)
	// Delete removes key; deleting a missing key is not an error.
	Delete(key []byte)
}

// Store is a transactional ordered key-value store.
type Store interface {
	// Get returns the latest committed value of key, or ErrNotFound: one
	// point read outside any transaction, the cheapest read there is.
	// The slice belongs to the caller.
	Get(ctx context.Context, key []byte) ([]byte, error)
	// View runs fn against a consistent read-only snapshot.
	View(ctx context.Context, fn func(r Reader) error) error
	// Update runs fn in a serializable read-write transaction and commits
	// it. fn may be called more than once if the transaction conflicts with
	// a concurrent one, so it must not have side effects outside the Txn.
	// If fn returns an error the transaction is discarded and the error is
	// returned unchanged. A committed update is visible to every later View
	// and Update, but is durable only after Sync.
	Update(ctx context.Context, fn func(tx Txn) error) error
	// Sync makes every update committed so far durable.
	Sync(ctx context.Context) error
	// Close releases the store. Committed but unsynced updates may be lost.
	Close() error
}

// PrefixEnd returns the smallest key greater than every key with the given
// prefix, or nil if there is none (the prefix is all 0xff).
func PrefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
