package client

import (
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/wire"
)

// Creates of files closed since go to the service together (OpCreateBatch:
// one call, one transaction, one sync for all of them): a batch leaves
// when it is full, batchDelay after its first create was queued, or as
// soon as anything waits for the service to know of them (settle).

const (
	batchSize  = 64
	batchDelay = 5 * time.Millisecond
)

// batch queues req, the create of a file now closed, for the next batch.
// The caller holds mu; batch releases it.
func (c *Client) batch(req *wire.MakeAs) {
	c.async.closed = append(c.async.closed, req)
	var full []*wire.MakeAs
	if len(c.async.closed) >= batchSize {
		full = c.takeClosed()
	} else if !c.async.armed {
		c.async.armed = true
		time.AfterFunc(batchDelay, c.flushClosed)
	}
	c.mu.Unlock()
	c.sendBatch(full)
}

// takeClosed takes the queued creates of closed files; the caller holds
// mu.
func (c *Client) takeClosed() []*wire.MakeAs {
	closed := c.async.closed
	c.async.closed = nil
	return closed
}

// flushClosed sends the batch queued so far.
func (c *Client) flushClosed() {
	c.mu.Lock()
	c.async.armed = false
	closed := c.takeClosed()
	c.mu.Unlock()
	c.sendBatch(closed)
}

// sendBatch sends reqs in one OpCreateBatch.
func (c *Client) sendBatch(reqs []*wire.MakeAs) {
	if len(reqs) == 0 {
		return
	}
	b := &wire.CreateBatch{Items: make([]wire.MakeAs, len(reqs))}
	for i, r := range reqs {
		b.Items[i] = *r
	}
	answered := func(errOf func(i int) error) {
		for i, r := range reqs {
			c.createAnswered(r.Make.Parent, r.Make.Name, r.Ino, errOf(i))
		}
	}
	err := c.rpc.Send(wire.OpCreateBatch, b, func(p []byte, err error) {
		var r wire.BatchReply
		if err == nil {
			err = wire.DecodeReply(wire.OpCreateBatch, p, &r)
		}
		if err == nil && len(r.Errnos) != len(reqs) {
			err = &wire.RemoteError{Op: wire.OpCreateBatch, Errno: syscall.EIO, Reason: "the service answered another number of creates than it was sent"}
		}
		answered(func(i int) error {
			switch {
			case err != nil:
				return err
			case r.Errnos[i] == 0:
				return nil
			}
			reason := ""
			if i < len(r.Reasons) {
				reason = r.Reasons[i]
			}
			return &wire.RemoteError{Op: wire.OpCreate, Errno: syscall.Errno(r.Errnos[i]), Reason: reason}
		})
	})
	if err != nil {
		answered(func(int) error { return err })
	}
}
