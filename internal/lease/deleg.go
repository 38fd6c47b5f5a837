package lease

import "time"

// A delegation gives one session a directory to itself: while it holds
// it, the session may answer creates in the directory on its own and
// tell the service afterwards. It needs a lease on the directory and no
// other session holding one (Delegate). Before another session may look
// at the directory, the service recalls the delegation (RecallDelegation):
// the holder has everything it answered answered by the service, then
// acks, and the delegation is gone. It also goes with the holder's lease
// on the directory (Drop), and with the holder's session.

// deleg is one directory's delegation.
type deleg struct {
	holder SessionID
	recall RecallID // nonzero while it is being recalled
}

// Delegate gives s the delegation of dir and reports whether s holds it
// now. s must be alive and hold a lease on dir; no other session may hold
// a lease on dir or its delegation, and a delegation being recalled is
// not given again until the recall is done.
func (t *Table) Delegate(s SessionID, dir uint64) bool {
	sess := t.sessions[s]
	if sess == nil || !sess.inos.has(dir) {
		return false
	}
	if d := t.delegs[dir]; d != nil {
		return d.holder == s && d.recall == 0
	}
	for _, h := range t.inodes.appendHolders(nil, dir) {
		if h != s {
			return false
		}
	}
	if t.delegs == nil {
		t.delegs = make(map[uint64]*deleg)
	}
	t.delegs[dir] = &deleg{holder: s}
	if sess.delegs == nil {
		sess.delegs = make(map[uint64]struct{})
	}
	sess.delegs[dir] = struct{}{}
	return true
}

// Delegated returns the session holding dir's delegation (being recalled
// or not), or 0.
func (t *Table) Delegated(dir uint64) SessionID {
	if d := t.delegs[dir]; d != nil {
		return d.holder
	}
	return 0
}

// Delegations counts the delegations held.
func (t *Table) Delegations() int { return len(t.delegs) }

// RecallDelegation recalls dir's delegation on behalf of session except,
// which is about to look at dir. It returns the recall to wait for, or 0
// if there is none to wait for (dir is not delegated, or delegated to
// except). started reports whether this call started the recall, so that
// the caller sends it to holder; a delegation already being recalled
// returns that recall, which every caller waits for. The holder has until
// now+RecallTimeout to ack, as for Recall; once it acked, or expired, the
// delegation is gone.
func (t *Table) RecallDelegation(dir uint64, except SessionID, now time.Time) (id RecallID, holder SessionID, started bool) {
	t.now = now
	d := t.delegs[dir]
	if d == nil || d.holder == except {
		return 0, 0, false
	}
	if d.recall != 0 {
		return d.recall, d.holder, false
	}
	t.last++
	r := &recall{id: t.last, waiting: []SessionID{d.holder}, dir: dir}
	r.deadline = timer{at: now.Add(t.cfg.RecallTimeout), idx: -1, r: r}
	t.recalls[r.id] = r
	t.timers.add(&r.deadline)
	sess := t.sessions[d.holder]
	if sess.recalls == nil {
		sess.recalls = make(map[RecallID]struct{})
	}
	sess.recalls[r.id] = struct{}{}
	d.recall = r.id
	return r.id, d.holder, true
}

// undelegate ends s's delegation of dir, if it holds it.
func (t *Table) undelegate(s SessionID, dir uint64) {
	if d := t.delegs[dir]; d != nil && d.holder == s {
		delete(t.delegs, dir)
		if sess := t.sessions[s]; sess != nil {
			delete(sess.delegs, dir)
		}
	}
}
