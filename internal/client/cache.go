package client

import (
	"errors"
	"syscall"

	"github.com/ferryfs/ferry/internal/wire"
)

// The client answers some questions itself while its lease covers the
// answer: that an inode has no extended attribute of a name (ls -l asks
// for security.selinux of every file, and the kernel caches only ACLs).
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
}

func (lc *leasedCache) changed(ino uint64) {
	lc.seq++
	lc.stamps[ino%cacheBuckets] = lc.seq
	delete(lc.noXattr, ino)
}

func (lc *leasedCache) reset() {
	lc.seq++
	for i := range lc.stamps {
		lc.stamps[i] = lc.seq
	}
	lc.noXattr = nil
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

// changedHere drops what the client remembers of ino after its own
// change to it.
func (c *Client) changedHere(ino uint64) {
	c.mu.Lock()
	c.cache.changed(ino)
	c.mu.Unlock()
}

func isNoData(err error) bool { return errors.Is(err, syscall.ENODATA) }
