package service

import (
	"time"
)

// replyCache remembers the replies of a session's mutating calls, so that
// a call the client sends again after a reconnect runs once. An entry
// lives until the cache holds more than replyCacheMax entries or it is
// older than replyCacheAge; a client resends within a reconnect, far
// sooner.
type replyCache struct {
	m     map[uint64]*replyEntry
	order []uint64 // ids in the order they started
}

const (
	replyCacheMax = 4096
	replyCacheAge = 2 * time.Minute
)

type replyEntry struct {
	done  chan struct{} // closed when reply is set
	reply []byte
	at    time.Time
}

// begin returns the entry of call id and whether it is new (the caller
// runs the call and finishes the entry) or a repeat (the caller waits on
// done and sends reply).
func (c *replyCache) begin(id uint64, now time.Time) (*replyEntry, bool) {
	if c.m == nil {
		c.m = make(map[uint64]*replyEntry)
	}
	if e := c.m[id]; e != nil {
		return e, false
	}
	e := &replyEntry{done: make(chan struct{}), at: now}
	c.m[id] = e
	c.order = append(c.order, id)
	for len(c.order) > 0 {
		old := c.m[c.order[0]]
		if len(c.order) <= replyCacheMax && (old == nil || now.Sub(old.at) < replyCacheAge) {
			break
		}
		if old != nil {
			select {
			case <-old.done:
				delete(c.m, c.order[0])
			default:
				// still running: keep it, stop pruning for now
				return e, true
			}
		}
		c.order = c.order[1:]
	}
	return e, true
}
