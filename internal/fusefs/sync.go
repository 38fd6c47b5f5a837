package fusefs

import (
	"context"
	"errors"
	"time"
)

// defaultSyncInterval is how often the background sync runs unless
// Options.SyncInterval says otherwise.
const defaultSyncInterval = 5 * time.Second

// syncAll commits every buffered write and makes it durable: objects
// first, then the metadata that references them.
func (f *fileSystem) syncAll(ctx context.Context) error {
	if err := f.data.FlushAll(ctx); err != nil {
		return err
	}
	if err := f.data.SyncObjects(ctx); err != nil {
		return err
	}
	return f.meta.Sync(ctx)
}

// syncer runs syncAll on every tick until stopped. Linux does not pass
// syncfs(2) or sync(2) on to FUSE servers, so this is what bounds how old
// the data is that such a call leaves undurable (doc.go).
type syncer struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startSyncer starts the background sync every interval; a zero or
// negative interval starts nothing (stop is then a no-op).
func startSyncer(f *fileSystem, interval time.Duration) *syncer {
	s := &syncer{done: make(chan struct{})}
	if interval <= 0 {
		close(s.done)
		s.cancel = func() {}
		return s
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	t := time.NewTicker(interval)
	go func() {
		defer close(s.done)
		defer t.Stop()
		f.syncLoop(ctx, t.C)
	}()
	return s
}

// syncLoop syncs once per tick until ctx ends. Failures are logged; the
// next tick tries again.
func (f *fileSystem) syncLoop(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		if err := f.syncAll(ctx); err != nil && !errors.Is(err, context.Canceled) {
			f.log.Warn("fuse: background sync failed", "err", err)
		}
	}
}

// stop ends the background sync and waits for a sync under way.
func (s *syncer) stop() {
	s.cancel()
	<-s.done
}
