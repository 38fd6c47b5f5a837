package client

import (
	"context"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// Creates under a directory delegation. In a directory this client made,
// whose whole listing it keeps (cache.go), it asks the service for the
// directory's delegation and a range of inode numbers (OpDelegate), then
// answers each create there itself: the listing says whether the name is
// free, the attributes are computed as meta computes them (the caller's
// owner and group, the setgid directory's group, the umask; the service
// delegates no directory with extended attributes, hence none with a
// default ACL), and the times are the client's. The create goes to the
// service at once without waiting (OpCreateAs, rpc.Client.Send), which
// makes it durable before it answers, as every change.
//
// Every other call to the service waits until those creates are answered
// (settle), so nothing this client asks or changes overtakes them; so
// does the acknowledgement of the recall the service sends before another
// client looks at the directory (ReturnDelegation). The release of a file
// created this way waits for its create's answer, then goes out without
// waiting either. A create the service refuses (ENOSPC, EDQUOT, ...) is
// logged, withdrawn from the kernel, and reported at the file's next
// fsync or close (Settled).

// deleg is a directory delegated to this client: its attributes as the
// service granted them (its mode and group decide a new file's) and the
// inode numbers left to create with.
type deleg struct {
	dir         meta.Attr
	next, limit uint64
}

// inosPerDelegate is how many inode numbers one OpDelegate asks for.
const inosPerDelegate = 1024

// maxUnanswered bounds the creates sent and not answered: it bounds how
// long a recall waits for them.
const maxUnanswered = 128

// asyncState is guarded by Client.mu, but for slots.
type asyncState struct {
	inos   map[uint64]*asyncFile // creates sent, not answered
	idle   chan struct{}         // closed when inos empties; nil while it is empty
	failed map[uint64]error      // creates the service refused: the error until reported, then nil
	slots  chan struct{}         // one per create in inos
}

// asyncFile is one create the service has not answered yet.
type asyncFile struct {
	done     chan struct{} // closed once answered
	releases int           // releases of the file waiting for the answer
}

func newAsyncState() asyncState {
	return asyncState{inos: make(map[uint64]*asyncFile), failed: make(map[uint64]error), slots: make(chan struct{}, maxUnanswered)}
}

// settle waits until every create this client answered itself has been
// answered by the service.
func (c *Client) settle(ctx context.Context) error {
	c.mu.Lock()
	idle := c.async.idle
	c.mu.Unlock()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Settled waits, if wait is set, until the service answered the create
// of ino this client answered itself, and returns the error the service
// answered it with (once; nil if none).
func (c *Client) Settled(ctx context.Context, ino uint64, wait bool) error {
	c.mu.Lock()
	f := c.async.inos[ino]
	c.mu.Unlock()
	if f != nil && wait {
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

// delegated returns parent's delegation, asking the service for it if
// this client keeps parent's listing and has not asked before.
func (c *Client) delegated(ctx context.Context, parent uint64) bool {
	c.mu.Lock()
	_, listed := c.cache.listing[parent]
	d, asked := c.cache.delegs[parent]
	c.mu.Unlock()
	if !listed || c.rpc.Session().Version < 2 {
		return false
	}
	if asked {
		return d != nil && d.next < d.limit || c.moreInos(ctx, parent)
	}
	return c.moreInos(ctx, parent)
}

// moreInos asks for parent's delegation with a fresh range of inode
// numbers; a refusal is remembered until parent's listing goes.
func (c *Client) moreInos(ctx context.Context, parent uint64) bool {
	snap := c.cacheSnap()
	var g wire.Delegation
	err := c.call(ctx, wire.OpDelegate, &wire.Delegate{Dir: parent, Want: inosPerDelegate}, &g)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, listed := c.cache.listing[parent]; !listed || c.cache.stamps[parent%cacheBuckets] > snap || c.lost {
		return false // recalled meanwhile: the grant may be stale
	}
	if err != nil || g.N == 0 {
		c.cache.delegate(parent, nil)
		return false
	}
	c.cache.delegate(parent, &deleg{dir: g.Dir, next: g.First, limit: g.First + g.N})
	if c.refs[parent] > 0 {
		if c.cache.dirs == nil {
			c.cache.dirs = make(map[uint64]meta.Attr)
		}
		if _, ok := c.cache.dirs[parent]; !ok {
			c.cache.dirs[parent] = g.Dir
		}
	}
	return true
}

// createHere answers a create in a delegated directory; ok is false if
// parent is not one.
func (c *Client) createHere(ctx context.Context, cl meta.Caller, parent uint64, name string, mode, flags uint32) (a meta.Attr, ok bool, err error) {
	if len(name) > 255 || !c.delegated(ctx, parent) {
		return meta.Attr{}, false, nil
	}
	select {
	case c.async.slots <- struct{}{}:
	case <-ctx.Done():
		return meta.Attr{}, true, ctx.Err()
	}
	umask := meta.UmaskFrom(ctx)
	c.mu.Lock()
	d := c.cache.delegs[parent]
	l, listed := c.cache.listing[parent]
	if d == nil || !listed || d.next >= d.limit || c.lost {
		c.mu.Unlock()
		<-c.async.slots
		return meta.Attr{}, false, nil
	}
	if _, there := l[name]; there {
		c.mu.Unlock()
		<-c.async.slots
		return meta.Attr{}, true, &wire.RemoteError{Op: wire.OpCreate, Errno: syscall.EEXIST, Reason: "name exists (delegated listing)"}
	}
	now := time.Now().UnixNano()
	a = newFileAttr(cl, d.dir, d.next, mode, umask, now)
	d.next++
	l[name] = struct{}{}
	c.cache.names++
	if pa, ok := c.cache.dirs[parent]; ok {
		pa.Mtime, pa.Ctime = max(pa.Mtime, now), max(pa.Ctime, now)
		c.cache.dirs[parent] = pa
	}
	f := &asyncFile{done: make(chan struct{})}
	c.async.inos[a.Ino] = f
	if c.async.idle == nil {
		c.async.idle = make(chan struct{})
	}
	c.opens[a.Ino]++
	c.mu.Unlock()
	c.named(parent, name, a.Ino)

	req := &wire.MakeAs{Make: wire.Make{C: cl, Parent: parent, Name: name, Mode: mode, Flags: flags, Umask: umask}, Ino: a.Ino, Time: now}
	if err := c.rpc.Send(wire.OpCreateAs, req, func(p []byte, err error) {
		if err == nil {
			err = wire.DecodeReply(wire.OpCreateAs, p, &wire.Entered{})
		}
		c.createAnswered(parent, name, a.Ino, err)
	}); err != nil {
		c.createAnswered(parent, name, a.Ino, err)
		c.Settled(ctx, a.Ino, false)
		return meta.Attr{}, true, err
	}
	return a, true, nil
}

// newFileAttr computes the attributes meta gives a regular file created
// in a directory without a default ACL.
func newFileAttr(cl meta.Caller, dir meta.Attr, ino uint64, mode, umask uint32, now int64) meta.Attr {
	a := meta.Attr{Ino: ino, Mode: syscall.S_IFREG | mode&0o7777, Nlink: 1, UID: cl.UID, GID: cl.GID, Atime: now, Mtime: now, Ctime: now}
	if dir.Mode&syscall.S_ISGID != 0 {
		a.GID = dir.GID
	}
	if a.Mode&syscall.S_ISGID != 0 && cl.UID != 0 && !cl.InGroup(a.GID) {
		a.Mode &^= syscall.S_ISGID
	}
	a.Mode &^= umask & 0o777
	return a
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

// releaseLater defers the release of ino until its create is answered,
// if the service has not answered it yet, and drops the release of a
// file whose create the service refused.
func (c *Client) releaseLater(ino uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, refused := c.async.failed[ino]; refused {
		return true // the service never opened it
	}
	f := c.async.inos[ino]
	if f == nil {
		return false
	}
	f.releases++
	return true
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

// Delegated reports whether this client holds dir's delegation now.
func (c *Client) Delegated(dir uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cache.delegs[dir] != nil
}
