package pgkv

import "sync"

// While the store holds its lock (Lock), no other process writes the
// table, so the latest committed value of a key is known without asking
// the server: it is the value this process last committed, or last read
// with Store.Get, provided no other commit of the key overlapped that one.
// Store.Get answers from that knowledge; it is the read of the metadata
// service's getattr, which the service also makes after every change to
// send the directory's attributes with its reply, so a create or an
// unlink saves a round trip.
//
// Transactions never read from the cache: a read the server does not see
// is a read its serializability checks cannot account for.
//
// A commit drops its keys from the cache before COMMIT is sent and puts
// its values back when it returns, unless another commit of the same key
// was in flight at any moment in between (then nobody knows which one the
// server applied last). A Store.Get puts what it read only if no commit
// started anywhere while it ran. Without the lock, or once the lock's
// connection is found broken, the cache is off and empty.

// maxCached bounds the number of cached values.
const maxCached = 1 << 16

type cache struct {
	mu        sync.Mutex
	on        bool
	vals      map[string][]byte
	inflight  map[string]int  // commits in flight per key
	contended map[string]bool // keys two commits were in flight for at once
	starts    uint64          // commits started, for Store.Get's check
}

func newCache() *cache {
	return &cache{vals: map[string][]byte{}, inflight: map[string]int{}, contended: map[string]bool{}}
}

// enable turns the cache on or off; off empties it.
func (c *cache) enable(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = on
	if !on {
		clear(c.vals)
	}
}

// get returns the cached value of key; the slice belongs to the caller.
// ticket is what put needs after a read from the server.
func (c *cache) get(key []byte) (v []byte, ok bool, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return nil, false, 0
	}
	if v, ok := c.vals[string(key)]; ok {
		return append([]byte{}, v...), true, 0
	}
	if c.inflight[string(key)] > 0 {
		return nil, false, 0 // 0: do not put what the server says
	}
	return nil, false, c.starts + 1
}

// put records a value Store.Get read, if no commit started since get
// handed out the ticket.
func (c *cache) put(key, v []byte, ticket uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on && ticket != 0 && ticket == c.starts+1 && c.inflight[string(key)] == 0 {
		c.store(string(key), v)
	}
}

func (c *cache) store(k string, v []byte) {
	if len(c.vals) >= maxCached {
		for old := range c.vals {
			delete(c.vals, old)
			break
		}
	}
	c.vals[k] = append([]byte{}, v...)
}

// commitStart is called before COMMIT is sent for the given writes.
func (c *cache) commitStart(writes map[string]entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.starts++
	for k := range writes {
		delete(c.vals, k)
		if c.inflight[k] > 0 {
			c.contended[k] = true
		}
		c.inflight[k]++
	}
}

// commitEnd is called when the COMMIT of writes returned; ok says it
// committed.
func (c *cache) commitEnd(writes map[string]entry, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range writes {
		if c.inflight[k]--; c.inflight[k] > 0 {
			continue
		}
		delete(c.inflight, k)
		contended := c.contended[k]
		delete(c.contended, k)
		if c.on && ok && !contended && !e.del {
			c.store(k, e.v)
		}
	}
}
