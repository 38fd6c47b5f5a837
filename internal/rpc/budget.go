package rpc

import "sync"

// DefaultMaxBuffered bounds the bytes of one connection's calls being
// served and of its replies waiting to be sent, beyond one frame.
const DefaultMaxBuffered = 64 << 20

// budget counts the bytes of one connection's calls being served: the
// reader waits for room before it takes the next call, so a client that
// sends faster than it is served (or reads no replies) is held back by
// its own connection, not by the memory of the service.
type budget struct {
	mu   sync.Mutex
	cond *sync.Cond
	used int
	max  int
}

func newBudget(max int) *budget {
	b := &budget{max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// acquire waits until n bytes fit; a call larger than the whole budget
// waits until it is alone.
func (b *budget) acquire(n int) {
	b.mu.Lock()
	for b.used > 0 && b.used+n > b.max {
		b.cond.Wait()
	}
	b.used += n
	b.mu.Unlock()
}

func (b *budget) release(n int) {
	b.mu.Lock()
	b.used -= n
	b.cond.Broadcast()
	b.mu.Unlock()
}

// backedUp reports whether max bytes of replies wait to be sent: the
// reader then serves no call inline, since it must not wait itself (it
// reads the acknowledgements other sessions' changes wait for); the
// calls wait, holding their share of the budget and of MaxInflight.
func (w *frameWriter) backedUp(max int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.buf) >= max
}

// waitBelow returns once fewer than max bytes of replies wait to be sent,
// or the connection failed. A call that queued its reply holds its share
// of the budget until then.
func (w *frameWriter) waitBelow(max int) {
	w.mu.Lock()
	for len(w.buf) >= max && w.err == nil {
		if w.drained == nil {
			w.drained = sync.NewCond(&w.mu)
		}
		w.drained.Wait()
	}
	w.mu.Unlock()
}
