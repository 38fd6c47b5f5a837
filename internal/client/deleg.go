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
// service without waiting for it (OpCreateAs, async.go), which makes it
// durable before it answers, as every change.

// deleg is a directory delegated to this client: its attributes as the
// service granted them (its mode and group decide a new file's).
type deleg struct {
	dir meta.Attr
}

// inosPerDelegate is how many inode numbers one OpDelegate asks for when
// the client has none left (they serve every delegated directory).
const inosPerDelegate = 1024

// delegated reports whether parent is delegated to this client and it
// has an inode number to create with, asking the service for what is
// missing if this client keeps parent's listing. A refusal is remembered
// until parent's listing goes.
func (c *Client) delegated(ctx context.Context, parent uint64) bool {
	c.mu.Lock()
	_, listed := c.cache.listing[parent]
	d, asked := c.cache.delegs[parent]
	empty := c.async.next >= c.async.limit
	c.mu.Unlock()
	switch {
	case !listed || c.rpc.Session().Version < 2 || asked && d == nil:
		return false
	case asked && !empty:
		return true
	}
	snap := c.cacheSnap()
	var g wire.Delegation
	want := uint32(0)
	if empty {
		want = inosPerDelegate
	}
	err := c.call(ctx, wire.OpDelegate, &wire.Delegate{Dir: parent, Want: want}, &g)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && g.N > 0 {
		c.async.next, c.async.limit = g.First, g.First+g.N
	}
	if _, listed := c.cache.listing[parent]; !listed || c.cache.stamps[parent%cacheBuckets] > snap || c.lost {
		return false // recalled meanwhile: the grant may be stale
	}
	if err != nil {
		c.cache.delegate(parent, nil)
		return false
	}
	c.cache.delegate(parent, &deleg{dir: g.Dir})
	if c.refs[parent] > 0 {
		if c.cache.dirs == nil {
			c.cache.dirs = make(map[uint64]meta.Attr)
		}
		if _, ok := c.cache.dirs[parent]; !ok {
			c.cache.dirs[parent] = g.Dir
		}
	}
	return c.async.next < c.async.limit
}

// createHere answers a create in a delegated directory; ok is false if
// parent is not one.
func (c *Client) createHere(ctx context.Context, cl meta.Caller, parent uint64, name string, mode, flags uint32) (a meta.Attr, ok bool, err error) {
	if len(name) > 255 || !c.delegated(ctx, parent) {
		return meta.Attr{}, false, nil
	}
	if err := c.takeSlot(ctx); err != nil {
		return meta.Attr{}, true, err
	}
	umask := meta.UmaskFrom(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.cache.delegs[parent]
	l, listed := c.cache.listing[parent]
	if d == nil || !listed || c.async.next >= c.async.limit || c.lost {
		<-c.async.slots
		return meta.Attr{}, false, nil
	}
	if _, there := l[name]; there {
		<-c.async.slots
		return meta.Attr{}, true, &wire.RemoteError{Op: wire.OpCreate, Errno: syscall.EEXIST, Reason: "name exists (delegated listing)"}
	}
	now := time.Now().UnixNano()
	a = newFileAttr(cl, d.dir, c.async.next, mode, umask, now)
	c.async.next++
	l[name] = struct{}{}
	c.cache.names++
	if pa, ok := c.cache.dirs[parent]; ok {
		pa.Mtime, pa.Ctime = max(pa.Mtime, now), max(pa.Ctime, now)
		c.cache.dirs[parent] = pa
	}
	c.opens[a.Ino]++
	c.addName(parent, name, a.Ino)
	c.queue(&wire.MakeAs{Make: wire.Make{C: cl, Parent: parent, Name: name, Mode: mode, Flags: flags, Umask: umask}, Ino: a.Ino, Time: now})
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

// Delegated reports whether this client holds dir's delegation now.
func (c *Client) Delegated(dir uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cache.delegs[dir] != nil
}
