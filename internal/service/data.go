package service

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/wire"
)

// maxList bounds the objects of one BlobList reply.
const maxList = 1000

// serveData serves the data path's calls: layouts and objects.
func (h *handler) serveData(ctx context.Context, op wire.Op, req wire.Message) (wire.Message, []uint64, error) {
	m, objs := h.s.meta, h.s.opts.Objects
	switch op {
	case wire.OpBlobPut, wire.OpBlobGet, wire.OpCommitWrite, wire.OpBlobSync:
		h.s.opts.Procs.Begin()
		defer h.s.opts.Procs.End()
	}
	switch op {
	case wire.OpGetLayout:
		r := req.(*wire.GetLayout)
		bs, err := m.GetLayout(ctx, r.Ino, r.First, r.Count)
		return &wire.Blocks{Blocks: bs}, nil, err
	case wire.OpNewObjectIDs:
		n := req.(*wire.U64).V
		if n == 0 || n > 1<<16 {
			return nil, nil, fmt.Errorf("new object ids: count %d: %w", n, syscall.EINVAL)
		}
		first, err := m.NewObjectIDs(ctx, int(n))
		return &wire.U64{V: first}, nil, err
	case wire.OpCommitWrite:
		r := req.(*wire.CommitWrite)
		return nil, nil, m.CommitWrite(ctx, r.Ino, r.W)
	case wire.OpBlobPut:
		r := req.(*wire.BlobPut)
		return nil, nil, blobErr(objs.Put(ctx, r.Key, r.Data))
	case wire.OpBlobGet:
		r := req.(*wire.BlobGet)
		b, err := objs.Get(ctx, r.Key, r.Off, r.Length)
		return &wire.Data{B: b}, nil, blobErr(err)
	case wire.OpBlobDelete:
		return nil, nil, blobErr(objs.Delete(ctx, req.(*wire.BlobPut).Key))
	case wire.OpBlobList:
		r := req.(*wire.BlobList)
		limit := int(min(max(r.Max, 1), maxList))
		var out wire.Objects
		errStop := errors.New("stop")
		err := objs.List(ctx, r.Prefix, func(o blob.Object) error {
			if o.Key <= r.After {
				return nil
			}
			if len(out.Objects) == limit {
				out.More = true
				return errStop
			}
			out.Objects = append(out.Objects, o)
			return nil
		})
		if errors.Is(err, errStop) {
			err = nil
		}
		return &out, nil, blobErr(err)
	case wire.OpBlobSync:
		return nil, nil, blobErr(blob.Sync(ctx, objs))
	}
	return nil, nil, fmt.Errorf("op %v: %w", op, syscall.ENOSYS)
}

// blobErr gives object store failures the errno a client maps back:
// ENOENT for a missing object.
func blobErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("%w: %w", err, syscall.ENOENT)
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return err
	}
	return fmt.Errorf("%w: %w", err, syscall.EIO)
}
