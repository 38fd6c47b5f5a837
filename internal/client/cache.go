package client

import (
	"errors"
	"syscall"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// The client answers some questions itself while its lease covers the
// answer: that an inode has no extended attribute of a name (ls -l asks
// for security.selinux of every file, and the kernel caches only ACLs),
// and the attributes of a directory its own change just altered (the
// kernel drops a directory's attributes after each create or unlink in
// it and asks again at the next; the service sent them with the reply).
// An answer is remembered only if no recall of its inode was read from
// the connection while the call was out: recalls are seen on the reader
// itself (rpc.ClientOptions.OnPushSync), before any later reply, and they
// drop what is remembered of their inodes. Stamps live in a fixed table
// of buckets, as on the service (a collision only forgoes a cache entry).

const cacheBuckets = 1 << 12

// leasedCache is guarded by Client.mu.
type leasedCache struct {
	seq     uint64
	stamps  [cacheBuckets]uint64
	noXattr map[uint64]map[string]bool // inode → names it has no xattr of
	dirs    map[uint64]meta.Attr       // directories' attributes after this client's change
	// listing: every name of a directory this client made, kept by its
	// own changes since; a lookup of a name not in it is answered
	// without asking (the LOOKUP the kernel sends before each create).
	listing map[uint64]map[string]struct{}
	names   int // in all listings
	// delegs: directories delegated to this client (deleg.go), nil for
	// one the service refused. A delegation is used only with the
	// directory's listing, and goes with it.
	delegs map[uint64]*deleg
}

// maxListed bounds the names kept in listings; past it they all go.
const maxListed = 1 << 20

// ownChange is what the client's own change to ino drops: remembered
// attributes, not its listing (the change keeps that itself).
func (lc *leasedCache) ownChange(ino uint64) {
	lc.seq++
	lc.stamps[ino%cacheBuckets] = lc.seq
	delete(lc.noXattr, ino)
	delete(lc.dirs, ino)
}

// changed drops everything the client remembers of ino: a recall, or the
// kernel forgot it.
func (lc *leasedCache) changed(ino uint64) {
	lc.seq++
	lc.stamps[ino%cacheBuckets] = lc.seq
	delete(lc.noXattr, ino)
	delete(lc.dirs, ino)
	lc.dropListing(ino)
}

func (lc *leasedCache) dropListing(ino uint64) {
	lc.names -= len(lc.listing[ino])
	delete(lc.listing, ino)
	delete(lc.delegs, ino)
}

// delegate records dir's delegation, or (d nil) that the service refused
// it.
func (lc *leasedCache) delegate(dir uint64, d *deleg) {
	if lc.delegs == nil {
		lc.delegs = make(map[uint64]*deleg)
	}
	lc.delegs[dir] = d
}

func (lc *leasedCache) reset() {
	lc.seq++
	for i := range lc.stamps {
		lc.stamps[i] = lc.seq
	}
	lc.noXattr, lc.dirs, lc.listing, lc.names, lc.delegs = nil, nil, nil, 0, nil
}

// onPushSync drops what the client remembers of recalled inodes, before
// any reply read after the recall reaches its caller.
func (c *Client) onPushSync(h wire.Header, p []byte) {
	if h.Op != wire.OpRecall {
		return
	}
	var r wire.Recall
	if err := wire.Decode(p, &r); err != nil {
		return // onPush logs it
	}
	c.mu.Lock()
	for _, it := range r.Items {
		c.cache.changed(it.Ino)
	}
	c.mu.Unlock()
}

// cacheSnap returns the stamp a call starts from.
func (c *Client) cacheSnap() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cache.seq
}

// knownNoXattr reports whether ino is known to have no xattr name.
func (c *Client) knownNoXattr(ino uint64, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cache.noXattr[ino][name]
}

// rememberNoXattr records that ino has no xattr name, if nothing about
// ino was recalled since snap and the kernel still holds ino (so that the
// lease does).
func (c *Client) rememberNoXattr(ino uint64, name string, snap uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache.stamps[ino%cacheBuckets] > snap || c.refs[ino] == 0 || c.lost {
		return
	}
	if c.cache.noXattr == nil {
		c.cache.noXattr = make(map[uint64]map[string]bool)
	}
	if c.cache.noXattr[ino] == nil {
		c.cache.noXattr[ino] = make(map[string]bool)
	}
	c.cache.noXattr[ino][name] = true
}

// changedHere drops what the client remembers of ino's attributes after
// its own change to it.
func (c *Client) changedHere(ino uint64) {
	c.mu.Lock()
	c.cache.ownChange(ino)
	c.mu.Unlock()
}

// startListing records that dir, just made by this client, has no names,
// if nothing about it was recalled since snap.
func (c *Client) startListing(dir uint64, snap uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache.stamps[dir%cacheBuckets] > snap || c.lost {
		return
	}
	if c.cache.listing == nil {
		c.cache.listing = make(map[uint64]map[string]struct{})
	}
	c.cache.listing[dir] = make(map[string]struct{})
}

// listed updates dir's listing after this client's own change: name
// added (ok) or removed; a failed change (the listing may be wrong)
// drops it.
func (c *Client) listed(dir uint64, name string, added bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.cache.listing[dir]
	switch {
	case !ok:
	case err != nil:
		c.cache.dropListing(dir)
	case added:
		if _, had := l[name]; !had {
			l[name] = struct{}{}
			if c.cache.names++; c.cache.names > maxListed {
				c.cache.listing, c.cache.names, c.cache.delegs = nil, 0, nil
			}
		}
	default:
		if _, had := l[name]; had {
			delete(l, name)
			c.cache.names--
		}
	}
}

// knownAbsent reports whether dir's listing says name is not there.
func (c *Client) knownAbsent(dir uint64, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.cache.listing[dir]
	if !ok {
		return false
	}
	_, there := l[name]
	return !there
}

// dropListings drops the listings of dirs.
func (c *Client) dropListings(dirs ...uint64) {
	c.mu.Lock()
	for _, d := range dirs {
		c.cache.dropListing(d)
	}
	c.mu.Unlock()
}

func isNoData(err error) bool { return errors.Is(err, syscall.ENODATA) }

// rememberDir keeps a directory's attributes, read by the service after
// this client's change to it, if nothing about it was recalled since snap
// and the kernel holds it.
func (c *Client) rememberDir(a meta.Attr, snap uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a.Ino == 0 || c.cache.stamps[a.Ino%cacheBuckets] > snap || c.refs[a.Ino] == 0 || c.lost {
		return
	}
	if c.cache.dirs == nil {
		c.cache.dirs = make(map[uint64]meta.Attr)
	}
	c.cache.dirs[a.Ino] = a
}

// knownDir returns a directory's remembered attributes.
func (c *Client) knownDir(ino uint64) (meta.Attr, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.cache.dirs[ino]
	return a, ok
}

// forgetDirs drops every remembered directory, and every delegation (a
// rename or rmdir moved or removed directories whose attributes this
// client may remember).
func (c *Client) forgetDirs() {
	c.mu.Lock()
	c.cache.seq++
	for ino := range c.cache.dirs {
		c.cache.stamps[ino%cacheBuckets] = c.cache.seq
	}
	c.cache.dirs, c.cache.delegs = nil, nil
	c.mu.Unlock()
}

// undelegate stops using ino's delegation: this client changes the
// directory's attributes, from which it computes new files'. The next
// create asks for it again.
func (c *Client) undelegate(ino uint64) {
	c.mu.Lock()
	delete(c.cache.delegs, ino)
	c.mu.Unlock()
}
