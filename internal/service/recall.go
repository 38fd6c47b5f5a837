package service

import (
	"context"
	"slices"

	"github.com/ferryfs/ferry/internal/lease"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// callState is what one call collects while it runs: the changes its
// transactions committed. It travels in the call's context.
type callState struct {
	changes []meta.Change
}

type callKey struct{}

func withCall(ctx context.Context, cs *callState) context.Context {
	return context.WithValue(ctx, callKey{}, cs)
}

// OnCommit is meta.Options.OnCommit: it collects the changes of a call's
// transactions. A change made outside any call (the service's own
// background work) is recalled at once, without waiting.
func (s *Service) OnCommit(ctx context.Context, changes []meta.Change) {
	if cs, ok := ctx.Value(callKey{}).(*callState); ok {
		cs.changes = append(cs.changes, changes...)
		return
	}
	go s.recall(context.Background(), changes, 0)
}

// recall tells every holder of a changed inode, other than the session
// that changed it, and waits until each acknowledged or was expired.
func (s *Service) recall(ctx context.Context, changes []meta.Change, except lease.SessionID) {
	if len(changes) == 0 {
		return
	}
	s.recallItems(ctx, mergeChanges(changes), except)
}

// flushWriters has every other session that has ino open for writing
// commit what it buffered, before except opens it.
func (s *Service) flushWriters(ctx context.Context, ino uint64, except lease.SessionID) {
	s.mu.Lock()
	others := false
	for id := range s.writers[ino] {
		if id != except {
			others = true
		}
	}
	s.mu.Unlock()
	if others {
		s.recallItems(ctx, []wire.RecallItem{{Ino: ino, What: wire.FlushData}}, except)
	}
}

// wrote records that sess opened ino for writing; unwrote that it closed
// its last handle of ino.
func (s *Service) wrote(sess lease.SessionID, ino uint64) {
	s.mu.Lock()
	if s.writers[ino] == nil {
		s.writers[ino] = make(map[lease.SessionID]struct{})
	}
	s.writers[ino][sess] = struct{}{}
	s.mu.Unlock()
}

func (s *Service) unwrote(sess lease.SessionID, ino uint64) {
	s.mu.Lock()
	if w := s.writers[ino]; w != nil {
		delete(w, sess)
		if len(w) == 0 {
			delete(s.writers, ino)
		}
	}
	s.mu.Unlock()
}

// recallItems sends items to the holders of their inodes other than
// except and waits for them.
func (s *Service) recallItems(ctx context.Context, items []wire.RecallItem, except lease.SessionID) {
	inos := make([]uint64, len(items))
	for i, it := range items {
		inos[i] = it.Ino
	}
	s.mu.Lock()
	s.stamps.bump(inos)
	id, targets := s.table.Recall(inos, except, s.opts.Now())
	if len(targets) == 0 {
		s.mu.Unlock()
		return
	}
	wait := make(chan struct{})
	s.waiters[id] = wait
	type out struct {
		sess *session
		msg  *wire.Recall
	}
	var outs []out
	for _, t := range targets {
		sess := s.sessions[t]
		if sess == nil {
			continue
		}
		var msg wire.Recall
		for _, it := range items {
			if s.table.Holds(t, it.Ino) {
				msg.Items = append(msg.Items, it)
			}
		}
		outs = append(outs, out{sess, &msg})
	}
	s.mu.Unlock()
	s.kick()
	for _, o := range outs {
		o.sess.mu.Lock()
		o.sess.pending[id] = o.msg
		p := o.sess.push
		o.sess.mu.Unlock()
		if p != nil {
			p.Push(wire.OpRecall, uint64(id), o.msg)
		}
	}
	select {
	case <-wait:
	case <-ctx.Done():
	}
}

// ack records a session's acknowledgement.
func (s *Service) ack(sess *session, id lease.RecallID) {
	sess.mu.Lock()
	delete(sess.pending, id)
	sess.mu.Unlock()
	s.mu.Lock()
	s.complete(s.table.Ack(sess.id, id))
	s.mu.Unlock()
}

// mergeChanges folds the changes of several transactions into one item
// per inode.
func mergeChanges(changes []meta.Change) []wire.RecallItem {
	idx := make(map[uint64]int, len(changes))
	var items []wire.RecallItem
	for _, c := range changes {
		i, ok := idx[c.Ino]
		if !ok {
			i = len(items)
			idx[c.Ino] = i
			items = append(items, wire.RecallItem{Ino: c.Ino})
		}
		it := &items[i]
		if c.Attr {
			it.What |= wire.ChangedAttr
		}
		if c.Data {
			it.What |= wire.ChangedData
		}
		if c.Gone {
			it.What |= wire.ChangedGone
		}
		for _, n := range c.Names {
			if !slices.Contains(it.Names, n) {
				it.Names = append(it.Names, n)
			}
		}
	}
	return items
}

// selfRecall tells the handler's own session that inos may have changed
// in a way no recall reached it for (grant). It is pushed ahead of
// the call's reply and needs no acknowledgement (recall id 0).
func (h *handler) selfRecall(inos []uint64) {
	msg := &wire.Recall{}
	for _, ino := range inos {
		msg.Items = append(msg.Items, wire.RecallItem{Ino: ino, What: wire.ChangedAttr | wire.ChangedData})
	}
	h.push.Push(wire.OpRecall, 0, msg)
}
