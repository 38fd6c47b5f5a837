package service

import (
	"context"
	"fmt"
	"syscall"

	"github.com/ferryfs/ferry/internal/lease"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// mutating reports whether op changes state, so that a repeat of it must
// be answered from the reply cache rather than run again. A compound is
// treated as one (it may hold mutations).
func mutating(op wire.Op) bool {
	switch op {
	case wire.OpCompound:
		return true
	case wire.OpSetAttr, wire.OpMknod, wire.OpMkdir, wire.OpCreate, wire.OpTmpfile, wire.OpSymlink,
		wire.OpLink, wire.OpUnlink, wire.OpRmdir, wire.OpRename, wire.OpOpen, wire.OpRelease,
		wire.OpAccessed, wire.OpHold, wire.OpSetXattr, wire.OpRemoveXattr, wire.OpFallocate,
		wire.OpNewObjectIDs, wire.OpCommitWrite, wire.OpBlobDelete, wire.OpDelegate, wire.OpCreateAs, wire.OpCreateBatch:
		return true
	}
	return op == wire.OpSetLk
}

// Call serves one call of the session.
func (h *handler) Call(ctx context.Context, op wire.Op, id uint64, payload []byte) []byte {
	s, sess := h.s, h.sess
	s.mu.Lock()
	alive := s.table.Renew(sess.id, s.opts.Now())
	s.mu.Unlock()
	if !alive && op != wire.OpBye {
		return wire.AppendReply(nil, syscall.ESTALE, wire.ReasonSessionExpired, nil)
	}
	if !mutating(op) {
		if s.holdReads.Load() && !sessionOp(op) {
			if err := s.awaitGrace(ctx); err != nil {
				return errReply(err)
			}
		}
		return h.run(ctx, op, payload)
	}
	// A Hold reclaims an open during the grace period; a CreateAs is a
	// create its client answered before the restart, in a directory no
	// other client holds, and the client reclaims only once it is done.
	if op != wire.OpHold && op != wire.OpCreateAs && op != wire.OpCreateBatch {
		if err := s.awaitGrace(ctx); err != nil {
			return errReply(err)
		}
	}
	sess.mu.Lock()
	e, first := sess.replies.begin(id, s.opts.Now())
	sess.mu.Unlock()
	if !first {
		<-e.done
		return e.reply
	}
	if id < sess.resent && op != wire.OpCompound {
		// Perhaps sent before the service restarted: if its change
		// committed then, answer without making it again.
		done, err := s.meta.CallDone(ctx, uint64(sess.id), id)
		if err == nil && done {
			e.reply = h.again(ctx, op, payload)
			close(e.done)
			return e.reply
		}
	}
	e.reply = h.run(meta.WithCall(ctx, uint64(sess.id), id), op, payload)
	close(e.done)
	return e.reply
}

// run decodes, serves and recalls.
func (h *handler) run(ctx context.Context, op wire.Op, payload []byte) []byte {
	req := wire.Request(op)
	if req == nil {
		return wire.AppendReply(nil, syscall.ENOSYS, fmt.Sprintf("unknown op %d", uint16(op)), nil)
	}
	if err := wire.Decode(payload, req); err != nil {
		return wire.AppendReply(nil, syscall.EINVAL, err.Error(), nil)
	}
	if op == wire.OpCompound {
		return h.compound(ctx, req.(*wire.Compound))
	}
	if reply, err := h.admit(ctx, op, req); reply != nil || err != nil {
		return replyOf(reply, err)
	}
	// A read that raced with a change to what it returns runs again
	// (grant.go); a mutation never runs twice.
	const maxReads = 8
	for attempt := 1; ; attempt++ {
		snap, delegated := h.s.snapshot()
		if delegated && attempt == 1 {
			// Delegations handed out after this are recalled below
			// (held), so one look before the first run is enough.
			h.recallDelegations(ctx, op, req)
		}
		cs := &callState{}
		reply, grants, err := h.serve(withCall(ctx, cs), op, req)
		if len(cs.changes) > 0 && !h.s.opts.Async {
			if serr := h.s.durable(ctx); serr != nil && err == nil {
				err = serr
			}
		}
		// Granted before the call's own recall stamps what it changed.
		raced, held := h.s.grant(h.sess.id, grants, snap)
		h.s.recall(ctx, cs.changes, h.sess.id)
		for _, dir := range held {
			h.s.recallDelegation(ctx, dir, h.sess.id)
		}
		if len(raced) > 0 || len(held) > 0 {
			if !mutating(op) && attempt < maxReads {
				continue
			}
			h.selfRecall(append(raced, held...)) // ahead of the reply
		}
		// Only the run whose reply goes out records what it handed out.
		h.present(op, req, reply, grants, err)
		if err != nil {
			return errReply(err)
		}
		return wire.AppendReply(nil, 0, "", reply)
	}
}

func (h *handler) compound(ctx context.Context, c *wire.Compound) []byte {
	out := wire.CompoundReply{Replies: make([][]byte, len(c.Calls))}
	size := 0
	for i, sub := range c.Calls {
		if size > maxCompoundReply { // guard.go
			out.Replies[i] = compoundFull(sub.Op)
			continue
		}
		out.Replies[i] = h.run(ctx, sub.Op, sub.Payload)
		size += len(out.Replies[i])
	}
	return wire.AppendReply(nil, 0, "", &out)
}

func attrReply(a meta.Attr, err error) (wire.Message, []uint64, error) {
	if err != nil {
		return nil, nil, err
	}
	return &wire.AttrReply{Attr: a}, []uint64{a.Ino}, nil
}

// entered returns a function that answers a call that made a name in
// parent: the inode and, read after the change, the parent, which the
// client keeps under its lease (it would ask for it next: the kernel
// drops a directory's attributes whenever it changes one of its names).
func (h *handler) entered(ctx context.Context, parent uint64) func(meta.Attr, error) (wire.Message, []uint64, error) {
	return func(a meta.Attr, err error) (wire.Message, []uint64, error) {
		if err != nil {
			return nil, nil, err
		}
		msg := &wire.Entered{Attr: a}
		if pa, perr := h.s.meta.GetAttr(ctx, parent); perr == nil {
			msg.Parent = pa
		}
		return msg, []uint64{a.Ino}, nil
	}
}

// parents answers unlink, rmdir and rename with the directories they
// changed, read after the change.
func (h *handler) parents(ctx context.Context, err error, dirs ...uint64) (wire.Message, []uint64, error) {
	if err != nil {
		return nil, nil, err
	}
	msg := &wire.Parents{}
	for i, d := range dirs {
		if i > 0 && d == dirs[0] {
			continue
		}
		if pa, perr := h.s.meta.GetAttr(ctx, d); perr == nil {
			msg.Attrs = append(msg.Attrs, pa)
		}
	}
	return msg, nil, nil
}

// serve runs one decoded request and returns its reply and the inodes
// the reply hands the client, which it gets leases on.
func (h *handler) serve(ctx context.Context, op wire.Op, req wire.Message) (wire.Message, []uint64, error) {
	m, s, sess := h.s.meta, h.s, h.sess
	if mk, ok := req.(*wire.Make); ok {
		ctx = meta.WithUmask(ctx, mk.Umask)
	}
	switch op {
	case wire.OpHeartbeat:
		h.prune(req.(*wire.U64).V)
		return nil, nil, nil
	case wire.OpBye:
		s.mu.Lock()
		s.table.Close(sess.id)
		delete(s.sessions, sess.id)
		s.mu.Unlock()
		s.kick() // recalls that waited on it are done: the next Tick says so
		s.end(sess, "closed by the client")
		return nil, nil, nil
	case wire.OpReclaimed:
		s.mu.Lock()
		_, was := s.recovering[sess.id]
		delete(s.recovering, sess.id)
		over := was && len(s.recovering) == 0
		s.mu.Unlock()
		if over {
			s.endGrace("every client is back")
		}
		return nil, nil, nil
	case wire.OpForget:
		r := req.(*wire.Inos)
		s.mu.Lock()
		for _, ino := range r.Inos {
			s.table.Drop(sess.id, ino)
		}
		s.mu.Unlock()
		return nil, nil, nil
	case wire.OpRecallAck:
		s.ack(sess, lease.RecallID(req.(*wire.RecallAck).Recall))
		return nil, nil, nil
	case wire.OpLookup:
		r := req.(*wire.Entry)
		a, err := m.Lookup(ctx, r.C, r.Parent, r.Name)
		if err != nil {
			// A missing name is cached too: under the parent's lease.
			return nil, []uint64{r.Parent}, err
		}
		return &wire.AttrReply{Attr: a}, []uint64{r.Parent, a.Ino}, nil
	case wire.OpGetAttr:
		return attrReply(m.GetAttr(ctx, req.(*wire.Ino).Ino))
	case wire.OpSetAttr:
		r := req.(*wire.SetAttr)
		return attrReply(m.SetAttr(ctx, r.C, r.Ino, r.In))
	case wire.OpMknod:
		r := req.(*wire.Make)
		return h.entered(ctx, r.Parent)(m.Mknod(ctx, r.C, r.Parent, r.Name, r.Mode, r.Rdev))
	case wire.OpMkdir:
		r := req.(*wire.Make)
		return h.entered(ctx, r.Parent)(m.Mkdir(ctx, r.C, r.Parent, r.Name, r.Mode))
	case wire.OpCreate:
		r := req.(*wire.Make)
		msg, g, err := h.entered(ctx, r.Parent)(m.Create(ctx, r.C, r.Parent, r.Name, r.Mode, r.Flags))
		if err == nil {
			sess.opened(g[0])
			s.wrote(sess.id, g[0])
		}
		return msg, g, err
	case wire.OpTmpfile:
		r := req.(*wire.Make)
		msg, g, err := attrReply(m.Tmpfile(ctx, r.C, r.Parent, r.Mode))
		if err == nil {
			sess.opened(g[0])
			s.wrote(sess.id, g[0])
		}
		return msg, g, err
	case wire.OpSymlink:
		r := req.(*wire.Make)
		return h.entered(ctx, r.Parent)(m.Symlink(ctx, r.C, r.Parent, r.Name, r.Target))
	case wire.OpReadlink:
		t, err := m.Readlink(ctx, req.(*wire.Ino).Ino)
		return &wire.Text{S: t}, nil, err
	case wire.OpLink:
		r := req.(*wire.Link)
		return h.entered(ctx, r.NewParent)(m.Link(ctx, r.C, r.Ino, r.NewParent, r.NewName))
	case wire.OpUnlink:
		r := req.(*wire.Entry)
		return h.parents(ctx, m.Unlink(ctx, r.C, r.Parent, r.Name), r.Parent)
	case wire.OpRmdir:
		r := req.(*wire.Entry)
		return h.parents(ctx, m.Rmdir(ctx, r.C, r.Parent, r.Name), r.Parent)
	case wire.OpRename:
		r := req.(*wire.Rename)
		return h.parents(ctx, m.Rename(ctx, r.C, r.OldParent, r.OldName, r.NewParent, r.NewName, r.Flags), r.OldParent, r.NewParent)
	case wire.OpOpen:
		r := req.(*wire.InoOp)
		s.flushWriters(ctx, r.Ino, sess.id)
		msg, g, err := attrReply(m.Open(ctx, r.C, r.Ino, r.N))
		if err == nil {
			sess.opened(r.Ino)
			if r.N&syscall.O_ACCMODE != syscall.O_RDONLY || r.N&syscall.O_TRUNC != 0 {
				s.wrote(sess.id, r.Ino)
			}
		}
		return msg, g, err
	case wire.OpRelease:
		ino := req.(*wire.Ino).Ino
		open, ok := sess.closing(ino)
		if !ok {
			return nil, nil, fmt.Errorf("release of inode %d: %w", ino, syscall.EBADF)
		}
		if !open {
			s.unwrote(sess.id, ino)
		}
		return nil, nil, m.Release(ctx, ino)
	case wire.OpAccessed:
		changed, err := m.Accessed(ctx, req.(*wire.Ino).Ino)
		return &wire.Bool{V: changed}, nil, err
	case wire.OpHold:
		ino := req.(*wire.Ino).Ino
		err := m.Hold(ctx, ino)
		if err == nil {
			sess.opened(ino)
		}
		return nil, nil, err
	case wire.OpAccess:
		r := req.(*wire.InoOp)
		return nil, nil, m.Access(ctx, r.C, r.Ino, r.N)
	case wire.OpReadDir:
		r := req.(*wire.ReadDir)
		es, err := m.ReadDir(ctx, r.C, r.Ino, r.Cookie, int(min(r.Max, 1<<16)), r.Plus)
		grants := []uint64{r.Ino}
		if r.Plus {
			for _, e := range es {
				if e.Attr != nil {
					grants = append(grants, e.Ino)
				}
			}
		}
		return &wire.DirEntries{Entries: es}, grants, err
	case wire.OpGetXattr:
		r := req.(*wire.Xattr)
		v, err := m.GetXattr(ctx, r.C, r.Ino, r.Name)
		return &wire.Data{B: v}, nil, err
	case wire.OpListXattr:
		r := req.(*wire.Xattr)
		ns, err := m.ListXattr(ctx, r.C, r.Ino)
		return &wire.Names{Names: ns}, nil, err
	case wire.OpSetXattr:
		r := req.(*wire.Xattr)
		return nil, nil, m.SetXattr(ctx, r.C, r.Ino, r.Name, r.Value, r.Flags)
	case wire.OpRemoveXattr:
		r := req.(*wire.Xattr)
		return nil, nil, m.RemoveXattr(ctx, r.C, r.Ino, r.Name)
	case wire.OpStatFS:
		st, err := m.StatFS(ctx)
		return &wire.StatFSReply{S: st}, nil, err
	case wire.OpFallocate:
		r := req.(*wire.Fallocate)
		return nil, nil, m.Fallocate(ctx, r.C, r.Ino, r.Mode, r.Off, r.Length)
	case wire.OpSync:
		return nil, nil, m.Sync(ctx)
	case wire.OpDelegate:
		return h.delegate(ctx, req.(*wire.Delegate))
	case wire.OpCreateAs:
		return h.createAs(ctx, req.(*wire.MakeAs))
	case wire.OpCreateBatch:
		return h.createBatch(ctx, req.(*wire.CreateBatch))
	}
	if isLockOp(op) {
		return h.serveLock(ctx, op, req.(*wire.Lk))
	}
	return h.serveData(ctx, op, req)
}

// opened counts an open of ino by the session.
func (sess *session) opened(ino uint64) {
	sess.mu.Lock()
	sess.opens[ino]++
	sess.mu.Unlock()
}

// closing uncounts an open of ino: ok is false if the session had none,
// open whether it still has ino open.
func (sess *session) closing(ino uint64) (open, ok bool) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	n := sess.opens[ino]
	if n == 0 {
		return false, false
	}
	if n == 1 {
		delete(sess.opens, ino)
		return false, true
	}
	sess.opens[ino] = n - 1
	return true, true
}

// Inline implements rpc.Inliner: reads wait for nothing but the stores.
// Mutations may wait for other clients' recall acknowledgements (and
// this connection must go on reading its own acknowledgements
// meanwhile), and object reads may be large.
func (h *handler) Inline(op wire.Op) bool {
	if h.s.holdReads.Load() {
		return false // reads may wait for the grace period
	}
	switch op {
	case wire.OpLookup, wire.OpGetAttr, wire.OpReadlink, wire.OpAccess, wire.OpReadDir,
		wire.OpGetXattr, wire.OpListXattr, wire.OpStatFS, wire.OpGetLayout, wire.OpHeartbeat,
		wire.OpForget:
		return true
	}
	return false
}
