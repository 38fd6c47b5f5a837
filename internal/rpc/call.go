package rpc

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/wire"
)

// Call sends req as op and decodes the service's answer into reply (nil
// for none). A failure the service reports is a *wire.RemoteError carrying
// its errno; a service out of reach for longer than Patience is EIO.
func (cl *Client) Call(ctx context.Context, op wire.Op, req, reply wire.Message) error {
	p, err := cl.call(ctx, op, req)
	if err != nil {
		return err
	}
	return wire.DecodeReply(op, p, reply)
}

// Unreachable is the error of a call the service did not answer within
// the client's patience. It carries EIO.
type Unreachable struct {
	Op  wire.Op
	For time.Duration
}

func (e *Unreachable) Error() string {
	return fmt.Sprintf("%v: service unreachable for %v", e.Op, e.For.Round(time.Second))
}

func (e *Unreachable) Unwrap() error { return syscall.EIO }

func (cl *Client) call(ctx context.Context, op wire.Op, req wire.Message) ([]byte, error) {
	c := &call{op: op, reply: make(chan result, 1)}
	id, err := cl.start(c, req)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-c.reply:
		if r.err == nil {
			cl.answered(c)
		}
		return r.p, r.err
	case <-ctx.Done():
		cl.mu.Lock()
		delete(cl.pending, id)
		cl.mu.Unlock()
		return nil, ctx.Err()
	}
}

// Send sends req as op and returns without waiting for the answer: done
// gets the reply payload (for wire.DecodeReply) or the failure,
// once. It is called on the connection's reader, in the order the
// replies arrive, and must not block. Like a Call, a sent call is sent
// again after a reconnect until it is answered.
func (cl *Client) Send(op wire.Op, req wire.Message, done func(p []byte, err error)) error {
	_, err := cl.start(&call{op: op, done: done}, req)
	return err
}

// start encodes c's frame, makes it pending and writes it.
func (cl *Client) start(c *call, req wire.Message) (uint64, error) {
	id := cl.nextID.Add(1)
	frame, start := wire.BeginFrame(nil, wire.Header{Kind: wire.KindCall, Op: c.op, ID: id})
	frame = wire.Append(frame, req)
	wire.EndFrame(frame, start)
	c.frame = frame

	cl.mu.Lock()
	switch {
	case cl.closed:
		cl.mu.Unlock()
		return 0, ErrClosed
	case cl.gaveUp:
		down := time.Since(cl.downAt)
		cl.mu.Unlock()
		select { // try again now rather than at the next backoff
		case cl.retry <- struct{}{}:
		default:
		}
		return 0, &Unreachable{Op: c.op, For: down}
	}
	cl.pending[id] = c
	cc := cl.conn
	// Taken before the call can reach the service: an answer means the
	// service renewed the session no earlier than this (see Renewed).
	c.sent = time.Now()
	cl.mu.Unlock()
	if cc != nil {
		// A failed write breaks the connection; the call goes again
		// after the reconnect.
		cc.w.writeFrame(frame)
	}
	return id, nil
}

// answered records that the service answered c.
func (cl *Client) answered(c *call) {
	cl.mu.Lock()
	if c.sent.After(cl.renewed) {
		cl.renewed = c.sent
	}
	cl.mu.Unlock()
}

// finish hands c its result.
func (cl *Client) finish(c *call, r result) {
	if c.done == nil {
		c.reply <- r
		return
	}
	if r.err == nil {
		cl.answered(c)
	}
	c.done(r.p, r.err)
}

// failPending fails every pending call with err; the caller holds mu.
func (cl *Client) failPending(err func(op wire.Op) error) {
	for id, c := range cl.pending {
		if c.done == nil {
			c.reply <- result{err: err(c.op)}
		} else {
			go c.done(nil, err(c.op)) // the caller holds mu
		}
		delete(cl.pending, id)
	}
}

// maintain sends heartbeats while connected and reconnects while not.
func (cl *Client) maintain() {
	defer close(cl.done)
	backoff := 50 * time.Millisecond
	for {
		cl.mu.Lock()
		cc, ready, period := cl.conn, cl.ready, time.Duration(cl.hello.LeasePeriod)
		cl.mu.Unlock()
		beat := max(period/4, 100*time.Millisecond)
		if cc != nil {
			backoff = 50 * time.Millisecond
			t := time.NewTimer(beat)
			select {
			case <-cl.stop:
				t.Stop()
				return
			case <-cc.lost:
				t.Stop()
				continue
			case <-t.C:
			}
			// A heartbeat renews an idle session and tells the service
			// which replies the client no longer needs kept.
			go cl.Call(context.Background(), wire.OpHeartbeat, &wire.U64{V: cl.Oldest()}, nil)
			continue
		}
		select {
		case <-cl.stop:
			return
		case <-ready:
			continue
		default:
		}
		cl.reconnect()
		t := time.NewTimer(backoff)
		select {
		case <-cl.stop:
			t.Stop()
			return
		case <-ready:
			t.Stop()
		case <-cl.retry:
			t.Stop()
		case <-t.C:
			backoff = min(backoff*2, 2*time.Second)
		}
	}
}

// reconnect makes one attempt at every address.
func (cl *Client) reconnect() {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-cl.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer cancel()
	cc, reply, err := cl.dial(ctx)
	cl.mu.Lock()
	if err != nil {
		if !cl.gaveUp && !cl.downAt.IsZero() && (time.Since(cl.downAt) > cl.opts.Patience || Permanent(err)) {
			cl.gaveUp = true
			down := time.Since(cl.downAt)
			msg := "rpc: service unreachable; failing calls with EIO until it is back"
			if Permanent(err) {
				msg = "rpc: the service refused this client; failing calls with EIO until it admits it"
			}
			cl.log.Error(msg, "for", down.Round(time.Second), "cause", err)
			cl.failPending(func(op wire.Op) error { return &Unreachable{Op: op, For: down} })
		}
		cl.mu.Unlock()
		return
	}
	if cl.closed {
		cl.mu.Unlock()
		cc.c.Close()
		return
	}
	resumed := reply.Resumed
	cl.session = reply.Session
	cl.hello = *reply
	cl.mu.Unlock()
	cl.log.Info("rpc: reconnected", "session", reply.Session, "resumed", resumed)
	if cl.opts.OnSession != nil {
		cl.opts.OnSession(reply, true)
	}
	cl.install(cc)
}

// Oldest returns the id of the oldest call without a reply (or of the
// next call): every call below it was answered.
func (cl *Client) Oldest() uint64 {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	oldest := cl.nextID.Load() + 1
	for id := range cl.pending {
		oldest = min(oldest, id)
	}
	return oldest
}

// Renewed returns the send time of the latest call the service answered:
// the service renewed the session no earlier than that.
func (cl *Client) Renewed() time.Time {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.renewed
}

// NewSession drops the connection and forgets the session, so that the
// reconnect opens a new one (the service expired the old one).
func (cl *Client) NewSession() {
	cl.mu.Lock()
	cl.session = 0
	cc := cl.conn
	cl.mu.Unlock()
	if cc != nil {
		cl.broken(cc, errors.New("session expired"))
	}
}

// Close ends the session: pending calls fail with ErrClosed.
func (cl *Client) Close() error {
	cl.mu.Lock()
	if cl.closed {
		cl.mu.Unlock()
		return nil
	}
	cl.closed = true
	cc := cl.conn
	cl.failPending(func(wire.Op) error { return ErrClosed })
	cl.mu.Unlock()
	close(cl.stop)
	if cc != nil {
		cc.c.Close()
	}
	<-cl.done
	return nil
}
