package client

import (
	"context"

	"github.com/ferryfs/ferry/internal/wire"
)

// Creates this client answered itself (deleg.go) go to the service
// without anybody waiting for them. One is queued until the file is
// closed, then sent marked closed, so that the service neither counts an
// open nor needs a release of it, and with others closed about then, in
// one call (batch.go). Anything that needs
// the service to know of it sends it first: every other call of this
// client waits until all are sent and answered (settle: Client.call does
// it first), so nothing it asks overtakes them; so do fsync of the file
// (Settled), unmount, and the acknowledgement of the recall that takes a
// delegation back before another client looks at the directory. The
// release of a file sent open waits for its create's answer, then goes
// out without waiting either. A create the service refuses (ENOSPC,
// EDQUOT, ...) is logged, withdrawn from the kernel, and reported at the
// file's next fsync or close (Settled).

// maxUnanswered bounds the creates not answered yet: it bounds how long
// a recall waits for them.
const maxUnanswered = 128

// asyncState is guarded by Client.mu, but for slots.
type asyncState struct {
	inos   map[uint64]*asyncFile // creates not answered
	unsent []uint64              // of those, the ones not sent, oldest first
	idle   chan struct{}         // closed when inos empties; nil while it is empty
	failed map[uint64]error      // creates the service refused: the error until reported, then nil
	slots  chan struct{}         // one per create in inos
	// next to limit-1: inode numbers the service reserved for this
	// client's creates in any delegated directory.
	next, limit uint64
	closed      []*wire.MakeAs // creates of closed files, for the next batch (batch.go)
	armed       bool           // a flush of closed is due
}

// asyncFile is one create the service has not answered yet.
type asyncFile struct {
	req      *wire.MakeAs  // nil once sent
	done     chan struct{} // closed once answered
	releases int           // releases of the file waiting for the answer
}

func newAsyncState() asyncState {
	return asyncState{inos: make(map[uint64]*asyncFile), failed: make(map[uint64]error), slots: make(chan struct{}, maxUnanswered)}
}

// takeSlot waits for room for one more create, sending what is queued
// if there is none.
func (c *Client) takeSlot(ctx context.Context) error {
	select {
	case c.async.slots <- struct{}{}:
		return nil
	default:
	}
	c.sendQueued()
	select {
	case c.async.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// queue queues req, a create this client answered; the caller holds mu
// and a slot.
func (c *Client) queue(req *wire.MakeAs) {
	c.async.inos[req.Ino] = &asyncFile{req: req, done: make(chan struct{})}
	c.async.unsent = append(c.async.unsent, req.Ino)
	if c.async.idle == nil {
		c.async.idle = make(chan struct{})
	}
}

// sendQueued sends every queued create, oldest first, as open.
func (c *Client) sendQueued() {
	c.mu.Lock()
	var reqs []*wire.MakeAs
	for _, ino := range c.async.unsent {
		if f := c.async.inos[ino]; f != nil && f.req != nil {
			reqs = append(reqs, f.req)
			f.req = nil
		}
	}
	c.async.unsent = c.async.unsent[:0]
	closed := c.takeClosed()
	c.mu.Unlock()
	for _, req := range reqs {
		c.send(req)
	}
	c.sendBatch(closed)
}

// send sends a create this client answered.
func (c *Client) send(req *wire.MakeAs) {
	parent, name, ino := req.Make.Parent, req.Make.Name, req.Ino
	err := c.rpc.Send(wire.OpCreateAs, req, func(p []byte, err error) {
		if err == nil {
			err = wire.DecodeReply(wire.OpCreateAs, p, &wire.Entered{})
		}
		c.createAnswered(parent, name, ino, err)
	})
	if err != nil {
		c.createAnswered(parent, name, ino, err)
	}
}

// settle sends what is queued and waits until the service answered every
// create this client answered itself.
func (c *Client) settle(ctx context.Context) error {
	c.mu.Lock()
	idle, queued := c.async.idle, len(c.async.unsent) > 0 || len(c.async.closed) > 0
	c.mu.Unlock()
	if idle == nil {
		return nil
	}
	if queued {
		c.sendQueued()
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Settled waits, if wait is set, until the service answered the create
// of ino this client answered itself (sending it first), and returns the
// error the service answered it with (once; nil if none). It implements
// fusefs.Settler.
func (c *Client) Settled(ctx context.Context, ino uint64, wait bool) error {
	c.mu.Lock()
	f := c.async.inos[ino]
	c.mu.Unlock()
	if f != nil && wait {
		c.sendQueued()
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err, refused := c.async.failed[ino]
	if refused {
		c.async.failed[ino] = nil // reported; kept until the kernel forgets ino
	}
	return err
}

// releaseHere releases ino without a call of its own if its create is
// not answered yet: a create not sent goes now, marked closed; the
// release of one sent waits for its answer. The release of a file whose
// create the service refused is dropped. It reports whether it took the
// release.
func (c *Client) releaseHere(ino uint64) bool {
	c.mu.Lock()
	if _, refused := c.async.failed[ino]; refused {
		c.mu.Unlock()
		return true // the service never opened it
	}
	f := c.async.inos[ino]
	if f == nil {
		c.mu.Unlock()
		return false
	}
	if f.req != nil && c.opens[ino] == 0 {
		req := f.req
		f.req = nil
		req.Closed = true
		c.batch(req) // unlocks mu
		return true
	}
	f.releases++
	c.mu.Unlock()
	return true
}

// createAnswered records the service's answer to a create this client
// answered itself. It runs on the connection's reader: it must not
// block.
func (c *Client) createAnswered(parent uint64, name string, ino uint64, err error) {
	c.mu.Lock()
	f := c.async.inos[ino]
	delete(c.async.inos, ino)
	if len(c.async.inos) == 0 && c.async.idle != nil {
		close(c.async.idle)
		c.async.idle = nil
	}
	if err != nil {
		c.async.failed[ino] = err
		c.cache.changed(parent) // its listing and delegation are not to be trusted now
		delete(c.opens, ino)
	}
	k := c.kernel
	c.mu.Unlock()
	<-c.async.slots
	close(f.done)
	if err != nil {
		c.log.Error("client: the service refused a create this client had answered; it is reported at the file's next fsync or close",
			"parent", parent, "name", name, "ino", ino, "err", err)
		if k != nil {
			k.InvalidateEntry(parent, name)
			k.InvalidateInode(ino, 0, 0)
			k.InvalidateInode(parent, 0, 0)
		}
		return
	}
	for range f.releases {
		c.sendRelease(ino)
	}
}

// sendRelease releases ino without waiting for the answer.
func (c *Client) sendRelease(ino uint64) {
	err := c.rpc.Send(wire.OpRelease, &wire.Ino{Ino: ino}, func(p []byte, err error) {
		if err == nil {
			err = wire.DecodeReply(wire.OpRelease, p, nil)
		}
		if err != nil {
			c.log.Warn("client: release failed", "ino", ino, "err", err)
		}
	})
	if err != nil {
		c.log.Warn("client: release failed", "ino", ino, "err", err)
	}
}

// Unanswered counts the creates this client answered itself that the
// service has not answered yet.
func (c *Client) Unanswered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.async.inos)
}

// unanswered returns the inodes whose creates the service has not
// answered.
func (c *Client) unanswered() map[uint64]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[uint64]bool, len(c.async.inos))
	for ino := range c.async.inos {
		m[ino] = true
	}
	return m
}

// returnDelegations gives up the delegations a recall asks back, once
// every create answered here has been answered by the service.
func (c *Client) returnDelegations(ctx context.Context, r *wire.Recall) {
	for _, it := range r.Items {
		if it.What&wire.ReturnDelegation != 0 {
			if err := c.settle(ctx); err != nil {
				c.log.Warn("client: creates still unanswered when a delegation was recalled", "dir", it.Ino, "err", err)
			}
			return
		}
	}
}
