package service

import (
	"context"
	"fmt"
	"syscall"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// again answers a call whose change committed before the service
// restarted (meta.CallDone): it does not make the change again, but
// answers as the first run would have, from the state it left. Calls that
// only count (opens, holds) run again: the restart forgot the counts.
func (h *handler) again(ctx context.Context, op wire.Op, payload []byte) []byte {
	req := wire.Request(op)
	if err := wire.Decode(payload, req); err != nil {
		return wire.AppendReply(nil, syscall.EINVAL, err.Error(), nil)
	}
	m, sess := h.s.meta, h.sess
	switch op {
	case wire.OpMknod, wire.OpMkdir, wire.OpCreate, wire.OpSymlink, wire.OpLink, wire.OpSetAttr:
		// answered here, not by run: checked and mapped as run would
		if reply, err := h.admit(ctx, op, req); reply != nil || err != nil {
			return replyOf(reply, err)
		}
	}
	var (
		a   meta.Attr
		err error
	)
	switch r := req.(type) {
	case *wire.CreateBatch:
		return h.batchAgain(ctx, r)
	case *wire.Make:
		if op == wire.OpTmpfile {
			return h.run(ctx, op, payload) // nameless: make another; the first is an orphan
		}
		a, err = m.Lookup(ctx, r.C, r.Parent, r.Name)
		if err == nil && op == wire.OpCreate {
			a, err = m.Open(ctx, r.C, a.Ino, r.Flags&^(syscall.O_CREAT|syscall.O_EXCL|syscall.O_TRUNC))
			if err == nil {
				sess.opened(a.Ino)
				h.s.wrote(sess.id, a.Ino)
			}
		}
	case *wire.MakeAs: // as a Create
		a, err = m.Lookup(ctx, r.Make.C, r.Make.Parent, r.Make.Name)
		if err == nil && a.Ino != r.Ino {
			err = fmt.Errorf("create %d/%q again: it names inode %d, not %d: %w", r.Make.Parent, r.Make.Name, a.Ino, r.Ino, syscall.EEXIST)
		}
		if err == nil && !r.Closed {
			a, err = m.Open(ctx, r.Make.C, a.Ino, r.Make.Flags&^(syscall.O_CREAT|syscall.O_EXCL|syscall.O_TRUNC))
			if err == nil {
				sess.opened(a.Ino)
				h.s.wrote(sess.id, a.Ino)
			}
		}
	case *wire.Link:
		a, err = m.Lookup(ctx, r.C, r.NewParent, r.NewName)
	case *wire.SetAttr:
		a, err = m.GetAttr(ctx, r.Ino)
	case *wire.InoOp: // Open: count it again, without truncating twice
		if op == wire.OpOpen {
			r.N &^= syscall.O_TRUNC
			return h.run(ctx, op, wire.Append(nil, r))
		}
		return h.run(ctx, op, payload)
	default:
		switch op {
		case wire.OpRelease, wire.OpHold, wire.OpAccessed, wire.OpNewObjectIDs, wire.OpDelegate:
			return h.run(ctx, op, payload)
		}
		return wire.AppendReply(nil, 0, "", wire.Reply(op)) // unlink, rename, xattrs, commits: done
	}
	if err != nil {
		return errReply(err)
	}
	h.s.grant(sess.id, []uint64{a.Ino}, 0)
	var reply wire.Message = &wire.Entered{Attr: a} // parent unknown: the client asks
	if op == wire.OpSetAttr {
		reply = &wire.AttrReply{Attr: a}
	}
	h.present(op, req, reply, []uint64{a.Ino}, nil)
	return wire.AppendReply(nil, 0, "", reply)
}

// prune drops the call records the client no longer needs: every call
// below oldest was answered.
func (h *handler) prune(oldest uint64) {
	sess := h.sess
	sess.mu.Lock()
	if sess.pruning || oldest <= sess.pruned {
		sess.mu.Unlock()
		return
	}
	sess.pruning = true
	from := sess.pruned
	sess.mu.Unlock()
	go func() {
		err := h.s.meta.PruneCalls(context.Background(), uint64(sess.id), from, oldest)
		if err != nil {
			h.s.log.Warn("pruning call records failed", "session", uint64(sess.id), "cause", err)
		}
		sess.mu.Lock()
		sess.pruning = false
		if err == nil {
			sess.pruned = oldest
		}
		sess.mu.Unlock()
	}()
}
