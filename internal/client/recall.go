package client

import (
	"context"
	"time"

	"github.com/ferryfs/ferry/internal/wire"
)

// onPush handles a Push from the service: a recall, or a change of
// locks somebody waits for (locks.go).
func (c *Client) onPush(h wire.Header, p []byte) {
	if h.Op == wire.OpLocksChanged {
		c.locksChanged(p)
		return
	}
	if h.Op != wire.OpRecall {
		c.log.Warn("client: unknown push from the service", "op", h.Op)
		return
	}
	var r wire.Recall
	if err := wire.Decode(p, &r); err != nil {
		c.log.Warn("client: malformed recall from the service", "err", err)
		return
	}
	ctx := context.Background()
	c.apply(ctx, &r)
	c.returnDelegations(ctx, &r)
	if err := c.call(ctx, wire.OpRecallAck, &wire.RecallAck{Recall: h.ID}, nil); err != nil {
		c.log.Warn("client: recall acknowledgement failed", "recall", h.ID, "err", err)
	}
}

// apply invalidates what the kernel caches of the recalled inodes and
// waits until the kernel took it, except for entries of directories in
// which this client's own change is in flight (doc.go says why).
func (c *Client) apply(ctx context.Context, r *wire.Recall) {
	c.mu.Lock()
	k, d := c.kernel, c.data
	busy := make(map[uint64]bool)
	for _, it := range r.Items {
		if len(it.Names) > 0 && c.busy[it.Ino] > 0 {
			busy[it.Ino] = true
		}
	}
	c.mu.Unlock()
	if k == nil {
		return
	}
	var wait []<-chan struct{}
	for _, it := range r.Items {
		if it.What&wire.FlushData != 0 {
			if err := d.Flush(ctx, it.Ino); err != nil {
				c.log.Warn("client: flush for another client's open failed", "ino", it.Ino, "err", err)
			}
		}
		// The data path lays the size and mtime of its last commit over
		// the service's attributes until told otherwise; any change to
		// the inode ends that (what is still buffered stays).
		d.Invalidate(it.Ino)
		switch {
		case it.What&(wire.ChangedData|wire.ChangedGone) != 0:
			wait = append(wait, k.InvalidateInode(it.Ino, 0, 0))
		case len(it.Names) > 0: // a directory: its cached listing too
			wait = append(wait, k.InvalidateInode(it.Ino, 0, 0))
		case it.What&wire.ChangedAttr != 0:
			wait = append(wait, k.InvalidateInode(it.Ino, -1, 0))
		}
		for _, n := range it.Names {
			done := k.InvalidateEntry(it.Ino, n)
			if !busy[it.Ino] {
				wait = append(wait, done)
			}
		}
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for _, done := range wait {
		select {
		case <-done:
		case <-timeout.C:
			c.log.Warn("client: kernel invalidations still queued after 30s; acknowledging the recall anyway")
			return
		}
	}
}
