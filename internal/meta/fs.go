package meta

import (
	"context"
	"log/slog"
	"time"

	"github.com/ferryfs/ferry/internal/kv"
)

// Options configure an FS.
type Options struct {
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// DeleteObjects deletes objects nobody references any more. It is
	// called after the transaction that dropped them commits; ids it fails
	// to delete stay recorded and are retried (and collected by gc).
	DeleteObjects func(ctx context.Context, ids []uint64) error
	Logger        *slog.Logger
}

// FS is the metadata service: POSIX semantics over a kv.Store.
type FS struct {
	store kv.Store
	opts  Options
	log   *slog.Logger
}

// New opens the metadata service on a formatted store.
func New(ctx context.Context, store kv.Store, opts Options) (*FS, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &FS{store: store, opts: opts, log: opts.Logger}, nil
}

// Close stops background work. It does not close the store.
func (fs *FS) Close() error { return nil }
