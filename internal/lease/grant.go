package lease

import "slices"

// Grant records that session s holds a lease on ino. Granting a lease s
// holds already, or granting to a session that is not alive, does nothing.
func (t *Table) Grant(s SessionID, ino uint64) {
	sess := t.sessions[s]
	if sess == nil || sess.inos.has(ino) {
		return
	}
	sess.inos.put(ino, struct{}{})
	t.inodes.add(ino, s)
	t.leases++
	t.counts.Granted++
}

// Drop records that session s no longer holds a lease on ino, nor its
// delegation. It does not touch pending recalls: a target that dropped a
// recalled inode still acks the recall.
func (t *Table) Drop(s SessionID, ino uint64) {
	sess := t.sessions[s]
	if sess == nil || !sess.inos.has(ino) {
		return
	}
	sess.inos.del(ino)
	t.inodes.remove(ino, s)
	t.leases--
	t.undelegate(s, ino)
}

// Holds reports whether session s holds a lease on ino.
func (t *Table) Holds(s SessionID, ino uint64) bool {
	sess := t.sessions[s]
	return sess != nil && sess.inos.has(ino)
}

// Holders returns the sessions holding a lease on ino, sorted, in a slice
// the caller may keep.
func (t *Table) Holders(ino uint64) []SessionID {
	return t.inodes.appendHolders(nil, ino)
}

// inodeMap maps each inode with at least one holder to its holders. Most
// inodes have one holder, and a map entry with a slice costs more than
// twice one with a SessionID, so those live in their own map and move to
// many, with a sorted slice, when a second session takes a lease.
type inodeMap struct {
	one  shrinkMap[uint64, SessionID]   // inodes with one holder
	many shrinkMap[uint64, []SessionID] // inodes with two or more, sorted
}

func (im *inodeMap) len() int { return im.one.len() + im.many.len() }

// appendHolders appends the holders of ino to dst, sorted.
func (im *inodeMap) appendHolders(dst []SessionID, ino uint64) []SessionID {
	if s, ok := im.one.m[ino]; ok {
		return append(dst, s)
	}
	return append(dst, im.many.m[ino]...)
}

func (im *inodeMap) add(ino uint64, s SessionID) {
	if h, ok := im.many.m[ino]; ok {
		if i, found := slices.BinarySearch(h, s); !found {
			im.many.m[ino] = slices.Insert(h, i, s)
		}
		return
	}
	o, ok := im.one.m[ino]
	switch {
	case !ok:
		im.one.put(ino, s)
	case o != s:
		im.one.del(ino)
		im.many.put(ino, []SessionID{min(o, s), max(o, s)})
	}
}

func (im *inodeMap) remove(ino uint64, s SessionID) {
	if o, ok := im.one.m[ino]; ok {
		if o == s {
			im.one.del(ino)
		}
		return
	}
	h := im.many.m[ino]
	i, found := slices.BinarySearch(h, s)
	switch {
	case !found:
	case len(h) == 2:
		im.many.del(ino)
		im.one.put(ino, h[1-i])
	default:
		im.many.m[ino] = slices.Delete(h, i, i+1)
	}
}

// set is a shrinkMap used as a set.
type set[K comparable] = shrinkMap[K, struct{}]

// shrinkMapMin is the peak size below which a shrinkMap never rebuilds.
const shrinkMapMin = 1024

// shrinkMap is a map that gives memory back. A Go map keeps the room of
// its largest size for its whole life, and a session or a server may hold
// a million leases for a while and few afterwards; so once a shrinkMap
// falls to a quarter of its peak, it moves to a map of its present size.
// Each rebuild of n entries follows at least 3n deletions, so it costs
// O(1) per deletion, amortized. The zero value is an empty map.
type shrinkMap[K comparable, V any] struct {
	m    map[K]V
	peak int // the largest len(m) since m was made
}

func (c *shrinkMap[K, V]) len() int { return len(c.m) }

func (c *shrinkMap[K, V]) has(k K) bool {
	_, ok := c.m[k]
	return ok
}

func (c *shrinkMap[K, V]) put(k K, v V) {
	if c.m == nil {
		c.m = make(map[K]V)
	}
	c.m[k] = v
	c.peak = max(c.peak, len(c.m))
}

func (c *shrinkMap[K, V]) del(k K) {
	delete(c.m, k)
	if c.peak < shrinkMapMin || len(c.m) > c.peak/4 {
		return
	}
	// Not maps.Clone: a clone keeps the room of the original.
	m := make(map[K]V, len(c.m))
	for k, v := range c.m {
		m[k] = v
	}
	c.m, c.peak = m, len(m)
}
