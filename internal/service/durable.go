package service

import (
	"context"
	"sync"

	"github.com/ferryfs/ferry/internal/blob"
)

// By default a change is durable before its reply leaves (the NFS "sync"
// export): a crash of the service, or of its machine, loses nothing a
// client was told is done, so that a client's session survives the crash
// unchanged. Concurrent changes share one sync: a change waits for a sync
// that started after it committed. Options.Async turns this off (acknowledged
// changes since the last fsync may be lost, as with NFS "async").

// groupSync coalesces syncs of the metadata store (and the objects).
type groupSync struct {
	mu      sync.Mutex
	running bool
	gen     uint64        // syncs started
	done    uint64        // syncs finished (the highest generation)
	err     error         // of the last finished sync
	cond    chan struct{} // closed and replaced when a sync finishes
}

func newGroupSync() *groupSync { return &groupSync{cond: make(chan struct{})} }

// wait returns once a sync that started after the call has finished, and
// its error. run performs one sync.
func (g *groupSync) wait(ctx context.Context, run func(context.Context) error) error {
	g.mu.Lock()
	// The next sync to start; a running one may have begun before the
	// caller's commit.
	want := g.gen + 1
	for g.done < want {
		if !g.running {
			g.running = true
			g.gen++
			g.mu.Unlock()
			err := run(ctx)
			g.mu.Lock()
			g.running = false
			g.done = g.gen
			g.err = err
			close(g.cond)
			g.cond = make(chan struct{})
			continue
		}
		ch := g.cond
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		g.mu.Lock()
	}
	err := g.err
	g.mu.Unlock()
	return err
}

// durable makes the changes committed so far durable, objects first
// (metadata must never name an object a crash can lose).
func (s *Service) durable(ctx context.Context) error {
	return s.syncs.wait(ctx, func(ctx context.Context) error {
		if err := blob.Sync(ctx, s.opts.Objects); err != nil {
			return err
		}
		return s.meta.Sync(ctx)
	})
}
