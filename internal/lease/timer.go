package lease

import (
	"container/heap"
	"slices"
	"time"
)

// Tick expires the sessions whose period lapsed and the targets that did
// not ack a recall by its deadline, that is, every deadline not after now.
// It returns the sessions it expired and the recalls that completed, each
// sorted: those completed by the expiries and by Close calls since the
// last Tick.
func (t *Table) Tick(now time.Time) (expired []SessionID, done []RecallID) {
	t.now = now
	done, t.closed = t.closed, nil
	for len(t.timers) > 0 && !now.Before(t.timers[0].at) {
		tm := heap.Pop(&t.timers).(*timer)
		if tm.s != nil {
			expired = append(expired, tm.s.id)
			t.counts.Expired++
			done = t.expire(tm.s, done)
			continue
		}
		// Expiring the last target completes the recall and empties
		// waiting.
		for r := tm.r; len(r.waiting) > 0; {
			sess := t.sessions[r.waiting[0]]
			expired = append(expired, sess.id)
			t.counts.Expired++
			t.counts.MissedRecalls++
			done = t.expire(sess, done)
		}
	}
	slices.Sort(expired)
	slices.Sort(done)
	return expired, done
}

// Next returns the earliest time at which Tick would do something, or the
// zero time if nothing is due ever (no sessions). When recalls completed by
// Close wait to be reported, it returns a time no later than the last "now"
// the table was given.
func (t *Table) Next() time.Time {
	var next time.Time
	if len(t.timers) > 0 {
		next = t.timers[0].at
	}
	if len(t.closed) > 0 && (next.IsZero() || t.now.Before(next)) {
		next = t.now
	}
	return next
}

// timer is a deadline in the table's heap: a session's expiry or a
// recall's ack deadline. Exactly one of s and r is set.
type timer struct {
	at  time.Time
	idx int // position in the heap, -1 when not in it
	s   *session
	r   *recall
}

// timers is a min-heap of timers by deadline; each timer knows its
// position, so that a renewal moves it and a completion removes it in
// O(log n) and the heap holds no dead entries.
type timers []*timer

func (h *timers) add(tm *timer) { heap.Push(h, tm) }

func (h *timers) fix(tm *timer) { heap.Fix(h, tm.idx) }

func (h *timers) remove(tm *timer) {
	if tm.idx >= 0 {
		heap.Remove(h, tm.idx)
	}
}

func (h timers) Len() int           { return len(h) }
func (h timers) Less(i, j int) bool { return h[i].at.Before(h[j].at) }

func (h timers) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}

func (h *timers) Push(x any) {
	tm := x.(*timer)
	tm.idx = len(*h)
	*h = append(*h, tm)
}

func (h *timers) Pop() any {
	old := *h
	tm := old[len(old)-1]
	old[len(old)-1] = nil
	tm.idx = -1
	*h = old[:len(old)-1]
	return tm
}
