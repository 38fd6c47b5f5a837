package chunk

import (
	"container/list"
	"context"
	"sync"
)

// objectCache keeps verified object payloads in memory, least recently used
// first out, within a byte budget. Concurrent misses on one object share a
// single fetch. Objects are immutable, so an entry is never stale; entries
// are tagged with their inode so that Invalidate can release them.
type objectCache struct {
	max int64

	mu    sync.Mutex
	used  int64
	lru   list.List // *cacheEntry, most recently used first
	byID  map[uint64]*list.Element
	byIno map[uint64]map[uint64]struct{}
	calls map[uint64]*fetchCall

	counts cacheCounts // stats.go
}

type cacheEntry struct {
	id, ino uint64
	payload []byte
	size    int64
}

type fetchCall struct {
	done    chan struct{}
	payload []byte
	err     error
}

func newObjectCache(max int64) *objectCache {
	return &objectCache{
		max:   max,
		byID:  make(map[uint64]*list.Element),
		byIno: make(map[uint64]map[uint64]struct{}),
		calls: make(map[uint64]*fetchCall),
	}
}

// start returns the fetch of object id of inode ino: one already done if
// the object is cached, the one in flight if there is one, or a new one
// running fetch (which returns the payload and the memory it holds) in a
// goroutine started by spawn, so that a caller whose ctx ends does not
// abort it for the others waiting on it.
func (c *objectCache) start(ino, id uint64, spawn func(func()), fetch func() ([]byte, int64, error)) *fetchCall {
	c.mu.Lock()
	if el, ok := c.byID[id]; ok {
		c.lru.MoveToFront(el)
		c.mu.Unlock()
		c.counts.hits.Add(1)
		return &fetchCall{done: closedChan, payload: el.Value.(*cacheEntry).payload}
	}
	if call, ok := c.calls[id]; ok {
		c.mu.Unlock()
		c.counts.shared.Add(1)
		return call
	}
	call := &fetchCall{done: make(chan struct{})}
	c.calls[id] = call
	c.mu.Unlock()
	c.counts.misses.Add(1)
	spawn(func() {
		payload, size, err := fetch()
		c.mu.Lock()
		delete(c.calls, id)
		if err == nil {
			c.putLocked(ino, id, payload, size)
		}
		c.mu.Unlock()
		call.payload, call.err = payload, err
		close(call.done)
	})
	return call
}

var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// wait returns the result of call, or ctx's error if ctx ends first.
func (call *fetchCall) wait(ctx context.Context) ([]byte, error) {
	select {
	case <-call.done:
		return call.payload, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put caches payload as object id of ino, charging size bytes.
func (c *objectCache) put(ino, id uint64, payload []byte, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(ino, id, payload, size)
}

func (c *objectCache) putLocked(ino, id uint64, payload []byte, size int64) {
	if size > c.max {
		return
	}
	if el, ok := c.byID[id]; ok {
		c.lru.MoveToFront(el)
		return
	}
	for c.used+size > c.max {
		c.removeLocked(c.lru.Back())
	}
	c.byID[id] = c.lru.PushFront(&cacheEntry{id: id, ino: ino, payload: payload, size: size})
	c.used += size
	ids := c.byIno[ino]
	if ids == nil {
		ids = make(map[uint64]struct{})
		c.byIno[ino] = ids
	}
	ids[id] = struct{}{}
}

func (c *objectCache) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.byID, e.id)
	c.used -= e.size
	if ids := c.byIno[e.ino]; ids != nil {
		delete(ids, e.id)
		if len(ids) == 0 {
			delete(c.byIno, e.ino)
		}
	}
}

// dropIno removes every cached object of ino.
func (c *objectCache) dropIno(ino uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.byIno[ino] {
		c.removeLocked(c.byID[id])
	}
}

// drop removes object id.
func (c *objectCache) drop(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byID[id]; ok {
		c.removeLocked(el)
	}
}

// usedBytes reports the memory the cache holds.
func (c *objectCache) usedBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
