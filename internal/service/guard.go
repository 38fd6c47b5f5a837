package service

import (
	"context"
	"fmt"
	"math"
	"syscall"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/lease"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// The service trusts nothing a client sends: admit checks every decoded
// request before it runs (read-only exports, names, sizes, inodes of a
// subdirectory export, what the data path may touch) and maps its
// identities and inode numbers; present maps replies back and records
// what they handed the session.

// MaxFileSize is the largest file size and end of a range the service
// accepts: offsets are signed 64-bit in the kernel.
const MaxFileSize = math.MaxInt64

// refusal is a request's failure with op and inode.
func refusal(op wire.Op, ino uint64, why string, kind syscall.Errno) error {
	return fmt.Errorf("%v of inode %d: %s: %w", op, ino, why, kind)
}

// changes reports whether op changes the volume whatever its arguments.
func changes(op wire.Op) bool {
	switch op {
	case wire.OpSetAttr, wire.OpMknod, wire.OpMkdir, wire.OpCreate, wire.OpTmpfile, wire.OpSymlink,
		wire.OpLink, wire.OpUnlink, wire.OpRmdir, wire.OpRename, wire.OpSetXattr, wire.OpRemoveXattr,
		wire.OpFallocate, wire.OpNewObjectIDs, wire.OpCommitWrite, wire.OpBlobPut, wire.OpBlobDelete,
		wire.OpDelegate, wire.OpCreateAs, wire.OpCreateBatch:
		return true
	}
	return false
}

// admit checks and maps req in place. A non-nil reply answers the call
// without running it.
func (h *handler) admit(ctx context.Context, op wire.Op, req wire.Message) (wire.Message, error) {
	s := h.s
	ex := &s.opts.Export
	if ex.ReadOnly {
		if reply, err := h.readOnly(op, req); reply != nil || err != nil {
			return reply, err
		}
	}
	if err := checkFields(op, req, uint64(s.opts.BlockSize)); err != nil {
		return nil, err
	}
	if c := callerOf(req); c != nil {
		ex.IDs.caller(c)
	}
	if r, ok := req.(*wire.CreateBatch); ok {
		for i := range r.Items {
			ex.IDs.caller(&r.Items[i].Make.C)
		}
	}
	if op == wire.OpDelegate && ex.IDs.Active() {
		// A delegated client answers creates with the owner its kernel
		// gave it, which the service would have mapped or squashed.
		return nil, fmt.Errorf("%v: creates are not delegated where identities are mapped: %w", op, syscall.EOPNOTSUPP)
	}
	if r, ok := req.(*wire.SetAttr); ok && r.In.Valid&(meta.SetUID|meta.SetGID) != 0 {
		r.In.UID, r.In.GID = ex.IDs.owner(r.In.UID, r.In.GID)
	}
	// Inode numbers only need mapping and checking under a subdirectory
	// export: the whole volume is every client's.
	if s.subtree() {
		if err := h.contain(ctx, op, req); err != nil {
			return nil, err
		}
	}
	return nil, h.dataRights(ctx, op, req)
}

// contain maps the inode numbers req names to the volume's and refuses
// those outside the export.
func (h *handler) contain(ctx context.Context, op wire.Op, req wire.Message) error {
	s := h.s
	var buf [2]*uint64
	inos := inosOf(req, &buf)
	for _, p := range inos {
		*p = s.toService(*p)
	}
	switch op {
	case wire.OpForget, wire.OpRelease:
		// letting go is always allowed
	case wire.OpHold:
		if !s.reclaiming(h.sess.id) {
			if err := h.inside(ctx, op, *inos[0], false); err != nil {
				return err
			}
		}
	default:
		for _, p := range inos {
			if err := h.inside(ctx, op, *p, false); err != nil {
				return err
			}
		}
	}
	if r, ok := req.(*wire.Entry); ok && op == wire.OpLookup && r.Name == ".." {
		if r.Parent == s.root {
			r.Name = "." // the export's root is its own parent
		} else if err := h.inside(ctx, op, r.Parent, true); err != nil {
			return err
		}
	}
	return nil
}

// reclaiming reports whether a session from before a restart has yet to
// say what it holds open: its holds are trusted (its session id is its
// credential), inside the export or not.
func (s *Service) reclaiming(id lease.SessionID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovering[id]
}

// readOnly refuses what would change a read-only export; the atime
// update a read asks for is answered "unchanged".
func (h *handler) readOnly(op wire.Op, req wire.Message) (wire.Message, error) {
	switch r := req.(type) {
	case *wire.InoOp:
		switch {
		case op == wire.OpOpen && (r.N&syscall.O_ACCMODE != syscall.O_RDONLY || r.N&(syscall.O_TRUNC|syscall.O_CREAT) != 0):
			return nil, refusal(op, r.Ino, "open for writing on a read-only export", syscall.EROFS)
		case op == wire.OpAccess && r.N&2 != 0: // W_OK
			return nil, refusal(op, r.Ino, "write access on a read-only export", syscall.EROFS)
		}
	}
	if op == wire.OpAccessed {
		return &wire.Bool{}, nil
	}
	if changes(op) {
		var ino uint64
		var buf [2]*uint64
		if inos := inosOf(req, &buf); len(inos) > 0 {
			ino = *inos[0]
		}
		return nil, refusal(op, ino, "read-only export", syscall.EROFS)
	}
	return nil, nil
}

// dataRights checks the data path's calls against what the session
// opened and was allocated.
func (h *handler) dataRights(ctx context.Context, op wire.Op, req wire.Message) error {
	g := &h.sess.guard
	switch op {
	case wire.OpGetLayout:
		r := req.(*wire.GetLayout)
		if open, _ := g.open(r.Ino); !open {
			// A client asks whether a file it wrote still exists
			// (chunk's removed): that much anybody may know.
			if _, err := h.s.meta.GetAttr(ctx, r.Ino); err != nil {
				return err
			}
			return refusal(op, r.Ino, "layout of a file the session has not open", syscall.EBADF)
		}
	case wire.OpFallocate:
		// fallocate(2) works on a descriptor open for writing; meta
		// checks no permission of its own.
		r := req.(*wire.Fallocate)
		if _, write := g.open(r.Ino); !write {
			return refusal(op, r.Ino, "fallocate of a file the session has not open for writing", syscall.EBADF)
		}
	case wire.OpSetAttr:
		// ftruncate skips meta's write permission check: the descriptor
		// was checked at its open, which must then be this session's.
		r := req.(*wire.SetAttr)
		if _, write := g.open(r.Ino); r.In.Valid&meta.SetFromHandle != 0 && !write {
			return refusal(op, r.Ino, "change through a descriptor the session has not open for writing", syscall.EBADF)
		}
	case wire.OpCommitWrite:
		r := req.(*wire.CommitWrite)
		if _, write := g.open(r.Ino); !write {
			return refusal(op, r.Ino, "commit to a file the session has not open for writing", syscall.EBADF)
		}
		for _, b := range r.W.Blocks {
			for _, p := range b.Pieces {
				if err := g.mayUse(objCommit, p.Obj, r.Ino); err != nil {
					return refusal(op, r.Ino, fmt.Sprintf("object %d is not the session's", p.Obj), syscall.EACCES)
				}
			}
		}
	case wire.OpBlobGet, wire.OpBlobPut, wire.OpBlobDelete:
		var key string
		use := objRead
		switch r := req.(type) {
		case *wire.BlobGet:
			key = r.Key
		case *wire.BlobPut:
			key, use = r.Key, objPut
			if op == wire.OpBlobDelete {
				use = objDelete
			}
		}
		obj, ok := chunk.ParseObjectKey(key)
		if !ok {
			return fmt.Errorf("%v of object %q: not a file object: %w", op, key, syscall.EACCES)
		}
		if err := g.mayUse(use, obj, 0); err != nil {
			return fmt.Errorf("%v of object %d: not the session's: %w", op, obj, err)
		}
	case wire.OpBlobList:
		if h.s.subtree() {
			return fmt.Errorf("%v: listing the volume's objects from a subdirectory export: %w", op, syscall.EACCES)
		}
	}
	return nil
}

// present maps a reply back to the client's view and records what it
// handed the session. grants are the inodes the reply hands out.
func (h *handler) present(op wire.Op, req, reply wire.Message, grants []uint64, err error) {
	s, g := h.s, &h.sess.guard
	if err != nil {
		return
	}
	if s.subtree() && len(grants) > 0 {
		g.hand(grants)
	}
	switch op {
	case wire.OpOpen:
		r := req.(*wire.InoOp)
		g.opened(r.Ino, r.N&syscall.O_ACCMODE != syscall.O_RDONLY || r.N&syscall.O_TRUNC != 0)
	case wire.OpCreate, wire.OpTmpfile:
		if len(grants) > 0 {
			g.opened(grants[0], true)
		}
	case wire.OpCreateAs:
		if r := req.(*wire.MakeAs); !r.Closed {
			g.opened(r.Ino, true)
		}
	case wire.OpHold:
		if s.reclaiming(h.sess.id) {
			g.opened(req.(*wire.Ino).Ino, true)
		}
	case wire.OpRelease:
		ino := req.(*wire.Ino).Ino
		h.sess.mu.Lock()
		open := h.sess.opens[ino] > 0
		h.sess.mu.Unlock()
		if !open {
			g.closed(ino)
		}
	case wire.OpForget:
		g.forget(req.(*wire.Inos).Inos)
	case wire.OpNewObjectIDs:
		g.allocated(reply.(*wire.U64).V, req.(*wire.U64).V)
	case wire.OpGetLayout:
		g.laidOut(req.(*wire.GetLayout).Ino, reply.(*wire.Blocks).Blocks)
	}
	h.mapReply(reply)
}

// mapReply rewrites the inode numbers and owners of a reply.
func (h *handler) mapReply(reply wire.Message) {
	s := h.s
	ids := &s.opts.Export.IDs
	if !s.subtree() && !ids.Active() {
		return
	}
	attr := func(a *meta.Attr) {
		a.Ino = s.toClient(a.Ino)
		ids.attr(a)
	}
	switch r := reply.(type) {
	case *wire.AttrReply:
		attr(&r.Attr)
	case *wire.Entered:
		attr(&r.Attr)
		if r.Parent.Ino != 0 {
			attr(&r.Parent)
		}
	case *wire.Parents:
		for i := range r.Attrs {
			attr(&r.Attrs[i])
		}
	case *wire.DirEntries:
		for i := range r.Entries {
			e := &r.Entries[i]
			e.Ino = s.toClient(e.Ino)
			if e.Attr != nil {
				attr(e.Attr)
			}
		}
	}
}

// replyOf is the payload of a call admit answered or refused.
func replyOf(reply wire.Message, err error) []byte {
	if err != nil {
		return errReply(err)
	}
	return wire.AppendReply(nil, 0, "", reply)
}

// maxCompoundReply bounds the replies of one compound: a small frame of
// many listings must not make the service build a reply no frame holds.
// The calls after the bound do not run.
const maxCompoundReply = wire.MaxFrame / 2

func compoundFull(op wire.Op) []byte {
	return errReply(fmt.Errorf("%v: not run: the compound's replies reached %d bytes: %w", op, maxCompoundReply, syscall.E2BIG))
}
