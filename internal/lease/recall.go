package lease

import (
	"slices"
	"time"
)

// recall is a pending recall: one with at least one target left to ack.
type recall struct {
	id       RecallID
	waiting  []SessionID // targets that have not acked, sorted
	dir      uint64      // a delegation's recall: its directory
	deadline timer
}

// Recall starts a recall of inos on behalf of session except, which made
// the change (0 for the service itself). It returns the recall's id and its
// targets: the live sessions other than except that hold a lease on any of
// inos, sorted, each once. With no targets the recall is done already and
// this call is its report. Otherwise each target has until
// now+RecallTimeout to Ack.
func (t *Table) Recall(inos []uint64, except SessionID, now time.Time) (RecallID, []SessionID) {
	t.now = now
	t.last++
	id := t.last
	var targets []SessionID
	for _, ino := range inos {
		targets = t.inodes.appendHolders(targets, ino)
	}
	targets = slices.DeleteFunc(targets, func(s SessionID) bool { return s == except })
	if len(targets) == 0 {
		return id, nil
	}
	slices.Sort(targets)
	targets = slices.Compact(targets)
	t.counts.recalled(len(targets))
	r := &recall{id: id, waiting: slices.Clone(targets)}
	r.deadline = timer{at: now.Add(t.cfg.RecallTimeout), idx: -1, r: r}
	t.recalls[id] = r
	t.timers.add(&r.deadline)
	for _, s := range targets {
		sess := t.sessions[s]
		if sess.recalls == nil {
			sess.recalls = make(map[RecallID]struct{})
		}
		sess.recalls[id] = struct{}{}
	}
	return id, targets
}

// Ack records that session s acknowledged recall r. A pair that is not
// pending (s is no target of r, acked already, or r is done) is ignored.
// It returns the recalls that completed because of it: r, or none. Ack
// does not renew s: the caller renews a session on every request.
func (t *Table) Ack(s SessionID, r RecallID) []RecallID {
	rec, sess := t.recalls[r], t.sessions[s]
	if rec == nil || sess == nil {
		return nil
	}
	if _, ok := sess.recalls[r]; !ok {
		return nil
	}
	delete(sess.recalls, r)
	if len(sess.recalls) == 0 {
		sess.recalls = nil // a map never shrinks; drop it with its room
	}
	if t.unwait(rec, s) {
		return []RecallID{r}
	}
	return nil
}

// Done reports whether recall r is complete. It is true for every id the
// table handed out that is no longer pending, whether or not the table
// still remembers it, and for 0, which names no recall. It is false for
// pending recalls and for ids not handed out yet.
func (t *Table) Done(r RecallID) bool {
	return r <= t.last && t.recalls[r] == nil
}

// unwait takes s out of the targets rec waits on. When none is left it
// forgets rec and returns true: the caller reports it.
func (t *Table) unwait(rec *recall, s SessionID) bool {
	i, found := slices.BinarySearch(rec.waiting, s)
	if !found {
		return false
	}
	rec.waiting = slices.Delete(rec.waiting, i, i+1)
	if len(rec.waiting) > 0 {
		return false
	}
	delete(t.recalls, rec.id)
	t.timers.remove(&rec.deadline)
	if rec.dir != 0 {
		t.undelegate(s, rec.dir)
	}
	return true
}
