package service

import (
	"context"
	"fmt"
	"syscall"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// createBatch serves OpCreateBatch: creates a client answered under its
// delegations and closed since, made in one transaction (one commit, one
// sync) and answered one by one. Every item is made closed.
func (h *handler) createBatch(ctx context.Context, r *wire.CreateBatch) (wire.Message, []uint64, error) {
	reply := &wire.BatchReply{Errnos: make([]uint32, len(r.Items)), Reasons: make([]string, len(r.Items))}
	var items []meta.BatchItem
	var at []int // index in r.Items of each of items
	known := make([]bool, len(r.Items))
	for i := range r.Items {
		it := &r.Items[i]
		k, fresh := h.sess.claim(it.Ino)
		known[i] = k
		if k && !fresh {
			err := fmt.Errorf("create %d/%q: inode number %d was used already: %w", it.Make.Parent, it.Make.Name, it.Ino, syscall.EEXIST)
			reply.Errnos[i], reply.Reasons[i] = uint32(syscall.EEXIST), err.Error()
			continue
		}
		items = append(items, meta.BatchItem{C: it.Make.C, Umask: it.Make.Umask, In: meta.CreateAsIn{
			Ino: it.Ino, Parent: it.Make.Parent, Name: it.Make.Name, Mode: it.Make.Mode, At: it.Time, Unused: k,
		}})
		at = append(at, i)
	}
	// One batch at a time: batches of one directory all change its
	// inode, and on engines with optimistic transactions (etcd) two at
	// once conflict over and over instead of both committing.
	h.s.batchMu.Lock()
	attrs, errs := h.s.meta.CreateBatch(ctx, items)
	h.s.batchMu.Unlock()
	var made []uint64
	for j, err := range errs {
		i := at[j]
		if err != nil {
			reply.Errnos[i], reply.Reasons[i] = uint32(meta.Errno(err)), err.Error()
			if known[i] {
				h.sess.unclaim(r.Items[i].Ino)
			}
			continue
		}
		made = append(made, attrs[j].Ino)
	}
	return reply, made, nil
}

// batchAgain answers a CreateBatch whose transaction committed before the
// service restarted: each item is answered from what its name holds now.
func (h *handler) batchAgain(ctx context.Context, r *wire.CreateBatch) []byte {
	reply := &wire.BatchReply{Errnos: make([]uint32, len(r.Items)), Reasons: make([]string, len(r.Items))}
	var made []uint64
	for i := range r.Items {
		it := &r.Items[i]
		a, err := h.s.meta.Lookup(ctx, it.Make.C, it.Make.Parent, it.Make.Name)
		if err == nil && a.Ino != it.Ino {
			err = fmt.Errorf("create %d/%q again: it names inode %d, not %d: %w", it.Make.Parent, it.Make.Name, a.Ino, it.Ino, syscall.EEXIST)
		}
		if err != nil {
			reply.Errnos[i], reply.Reasons[i] = uint32(meta.Errno(err)), err.Error()
			continue
		}
		made = append(made, a.Ino)
	}
	h.s.grant(h.sess.id, made, 0)
	return wire.AppendReply(nil, 0, "", reply)
}
