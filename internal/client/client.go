package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// Kernel is where invalidations go: *fusefs.Server. Each returns a
// channel closed once the kernel took the invalidation.
type Kernel interface {
	InvalidateInode(ino uint64, off, length int64) <-chan struct{}
	InvalidateEntry(parent uint64, name string) <-chan struct{}
}

// Data is the data path's cache, dropped for inodes whose contents
// changed elsewhere, and flushed when another client opens a file this
// one writes: *chunk.Store.
type Data interface {
	Invalidate(ino uint64)
	Flush(ctx context.Context, ino uint64) error
}

// Options configure Connect.
type Options struct {
	Addrs    []rpc.Addr
	Patience time.Duration // how long calls wait for an unreachable service
	Logger   *slog.Logger

	// Credentials, if set, secure and authenticate every connection.
	Credentials *rpc.Credentials
}

// Client is a session with a service.
type Client struct {
	rpc *rpc.Client
	log *slog.Logger

	hello wire.HelloReply

	mu      sync.Mutex
	kernel  Kernel
	data    Data
	refs    map[uint64]uint64  // kernel lookups per inode
	names   map[uint64][]entry // names the kernel knows each inode by
	busy    map[uint64]int     // this client's namespace changes in flight, per directory
	forgets []uint64           // inodes to tell the service about
	// An inode the kernel looks up again while its forget is on the way
	// may lose the lease the new lookup got; it is granted again once the
	// forget is answered (sendForgets).
	dropping map[uint64]bool
	opens    map[uint64]int // open files and holds, said again to a restarted service
	cache    leasedCache    // cache.go
	async    asyncState     // deleg.go
	flushNo  chan struct{}  // wakes the forget sender
	lost     bool           // everything was withdrawn; not renewed since
	local    localCounts    // stats.go

	locks lockState // file locks (locks.go)

	stop chan struct{}
	done chan struct{}
}

type entry struct {
	parent uint64
	name   string
}

// Connect opens a session with the service.
func Connect(ctx context.Context, opts Options) (*Client, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		log:      opts.Logger,
		refs:     make(map[uint64]uint64),
		names:    make(map[uint64][]entry),
		busy:     make(map[uint64]int),
		dropping: make(map[uint64]bool),
		opens:    make(map[uint64]int),
		async:    newAsyncState(),
		flushNo:  make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	var volume string // the volume of the first session: a reconnect must find it again
	r, err := rpc.Connect(ctx, rpc.ClientOptions{
		// Called once by Connect, then only by reconnects, which the
		// first call happens before.
		Check: func(h *wire.HelloReply) error {
			if volume == "" {
				volume = h.Volume
			} else if h.Volume != volume {
				return fmt.Errorf("the service serves volume %s, not %s, which this mount has", h.Volume, volume)
			}
			return nil
		},
		Addrs:      opts.Addrs,
		Patience:   opts.Patience,
		Logger:     opts.Logger,
		OnPush:     c.onPush,
		OnPushSync: c.onPushSync,
		OnSession:  c.onSession,

		Credentials: opts.Credentials,
	})
	if err != nil {
		return nil, err
	}
	c.rpc = r
	c.hello = r.Session()
	go c.background()
	return c, nil
}

// Hello returns the service's description of the session: block size,
// volume, lease period.
func (c *Client) Hello() wire.HelloReply { return c.hello }

// LeasePeriod is the session's lease period.
func (c *Client) LeasePeriod() time.Duration { return time.Duration(c.hello.LeasePeriod) }

// Attach connects the client to the kernel and the data path once the
// mount exists. Recalls before that find nothing cached.
func (c *Client) Attach(k Kernel, d Data) {
	c.mu.Lock()
	c.kernel, c.data = k, d
	c.mu.Unlock()
}

// Close ends the session: the service drops its leases and opens at once.
func (c *Client) Close() error {
	select {
	case <-c.stop:
		return nil
	default:
	}
	close(c.stop)
	<-c.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.settle(ctx); err != nil {
		c.log.Warn("client: creates still unanswered at unmount", "err", err)
	}
	c.sendForgets(ctx)
	err := c.rpc.Call(ctx, wire.OpBye, &wire.Empty{}, nil)
	if cerr := c.rpc.Close(); err == nil {
		err = cerr
	}
	return err
}

// call makes one call, after every create this client answered itself
// was answered (deleg.go), so that it cannot overtake them; a session the
// service expired is replaced by a new one and the call made once more.
func (c *Client) call(ctx context.Context, op wire.Op, req, reply wire.Message) error {
	c.local.called(op)
	if op != wire.OpRecallAck && op != wire.OpDelegate {
		if err := c.settle(ctx); err != nil {
			return err
		}
	}
	err := c.rpc.Call(ctx, op, req, reply)
	var re *wire.RemoteError
	if errors.As(err, &re) && re.Errno == syscall.ESTALE && re.Reason == wire.ReasonSessionExpired {
		c.log.Warn("client: the service expired this session; opening a new one")
		c.withdrawAll()
		c.rpc.NewSession()
		err = c.rpc.Call(ctx, op, req, reply)
	}
	return err
}

// onSession learns of every (re)connect.
func (c *Client) onSession(h *wire.HelloReply, reconnect bool) {
	if reconnect && !h.Resumed {
		c.log.Warn("client: the service no longer knows this session; withdrawing the kernel's caches", "session", h.Session)
		sent := c.unanswered() // sent again: the service opens them then
		c.withdrawAll()
		c.mu.Lock()
		opens := maps.Clone(c.opens)
		c.mu.Unlock()
		for ino := range sent {
			opens[ino]--
		}
		// The calls go out once the connection is installed, after the
		// calls resent from before.
		go c.reopen(opens)
	}
}

// reopen tells a service that lost its state which files this client
// has open, so that a file unlinked while open lives on, then that it is
// done (the service holds changes back until its clients are).
func (c *Client) reopen(opens map[uint64]int) {
	ctx := context.Background()
	for ino, n := range opens {
		for range n {
			if err := c.call(ctx, wire.OpHold, &wire.Ino{Ino: ino}, nil); err != nil {
				c.log.Warn("client: could not say again that a file is open; it reads as removed", "ino", ino, "err", err)
				break
			}
		}
	}
	if err := c.call(ctx, wire.OpReclaimed, &wire.Empty{}, nil); err != nil {
		c.log.Warn("client: could not end the reclaim", "err", err)
	}
}

// opened and closed count this client's opens and holds.
func (c *Client) opened(ino uint64) {
	c.mu.Lock()
	c.opens[ino]++
	c.mu.Unlock()
}

func (c *Client) closed(ino uint64) {
	c.mu.Lock()
	if c.opens[ino]--; c.opens[ino] <= 0 {
		delete(c.opens, ino)
	}
	c.mu.Unlock()
}

// background sends forgets and watches the session's renewal.
func (c *Client) background() {
	defer close(c.done)
	period := c.LeasePeriod()
	watch := time.NewTicker(max(period/8, 50*time.Millisecond))
	defer watch.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.flushNo:
			time.Sleep(5 * time.Millisecond) // let a burst of forgets gather
			c.sendForgets(context.Background())
		case <-watch.C:
			renewed := c.rpc.Renewed()
			c.mu.Lock()
			lost := c.lost
			if !renewed.IsZero() && time.Since(renewed) < period*3/4 {
				c.lost = false
			}
			c.mu.Unlock()
			if !lost && time.Since(renewed) >= period*3/4 {
				c.log.Warn("client: session not renewed for most of the lease period; withdrawing the kernel's caches",
					"since", time.Since(renewed).Round(time.Millisecond))
				c.withdrawAll()
			}
		}
	}
}

func (c *Client) sendForgets(ctx context.Context) {
	c.mu.Lock()
	var inos []uint64
	for _, ino := range c.forgets {
		if c.refs[ino] == 0 && !c.dropping[ino] {
			c.dropping[ino] = true
			inos = append(inos, ino)
		}
	}
	c.forgets = nil
	c.mu.Unlock()
	for len(inos) > 0 {
		n := min(len(inos), 4096)
		batch := inos[:n]
		inos = inos[n:]
		if err := c.call(ctx, wire.OpForget, &wire.Inos{Inos: batch}, nil); err != nil {
			c.log.Debug("client: forget failed", "inodes", n, "err", err)
		}
		var again []uint64
		c.mu.Lock()
		for _, ino := range batch {
			delete(c.dropping, ino)
			if c.refs[ino] > 0 { // looked up again since the forget was sent
				again = append(again, ino)
			}
		}
		k, d := c.kernel, c.data
		c.mu.Unlock()
		for _, ino := range again {
			// The lease may be gone: take it again, and have the kernel
			// drop what it learned while it was not covered.
			if _, err := c.GetAttr(ctx, ino); err != nil {
				c.log.Debug("client: lease renewal after forget failed", "ino", ino, "err", err)
			}
			if k != nil {
				d.Invalidate(ino)
				k.InvalidateInode(ino, 0, 0)
			}
		}
	}
}

// withdrawAll has the kernel drop everything it caches of this client's
// answers.
func (c *Client) withdrawAll() {
	c.mu.Lock()
	c.lost = true
	c.cache.reset()
	k, d := c.kernel, c.data
	if k == nil {
		c.mu.Unlock()
		return
	}
	inos := make([]uint64, 0, len(c.refs))
	var ents []entry
	for ino := range c.refs {
		inos = append(inos, ino)
		ents = append(ents, c.names[ino]...)
	}
	c.mu.Unlock()
	for _, e := range ents {
		k.InvalidateEntry(e.parent, e.name)
	}
	for _, ino := range inos {
		k.InvalidateInode(ino, 0, 0)
		d.Invalidate(ino)
	}
}

// Looked implements fusefs.Lessee.
func (c *Client) Looked(ino uint64) {
	c.mu.Lock()
	c.refs[ino]++
	c.mu.Unlock()
}

// Referenced implements fusefs.Lessee.
func (c *Client) Referenced(ino uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refs[ino] > 0
}

// Forgot implements fusefs.Lessee.
func (c *Client) Forgot(ino, n uint64) {
	c.mu.Lock()
	left := c.refs[ino] - min(n, c.refs[ino])
	if left > 0 {
		c.refs[ino] = left
		c.mu.Unlock()
		return
	}
	delete(c.refs, ino)
	delete(c.names, ino)
	delete(c.async.failed, ino)
	c.cache.changed(ino)
	c.forgets = append(c.forgets, ino)
	c.mu.Unlock()
	select {
	case c.flushNo <- struct{}{}:
	default:
	}
}

// named records that the kernel knows ino as name in parent.
func (c *Client) named(parent uint64, name string, ino uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addName(parent, name, ino)
}

// addName is named for a caller that holds mu.
func (c *Client) addName(parent uint64, name string, ino uint64) {
	for _, e := range c.names[ino] {
		if e.parent == parent && e.name == name {
			return
		}
	}
	if len(c.names[ino]) < 16 { // more hard links than that: the rest expire with their parents
		c.names[ino] = append(c.names[ino], entry{parent, name})
	}
}

// changing marks a namespace change in dirs as in flight; the returned
// func ends it.
func (c *Client) changing(dirs ...uint64) func() {
	c.mu.Lock()
	for _, d := range dirs {
		c.busy[d]++
	}
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		for _, d := range dirs {
			if c.busy[d]--; c.busy[d] == 0 {
				delete(c.busy, d)
			}
		}
		c.mu.Unlock()
	}
}

// String describes the session for logs.
func (c *Client) String() string { return fmt.Sprintf("session %d", c.hello.Session) }
