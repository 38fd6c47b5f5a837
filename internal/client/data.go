package client

import (
	"context"
	"errors"
	"syscall"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/wire"
)

// The data path's services over the session: chunk.Layout, and the
// volume's objects (Objects) when the client cannot reach them itself.

var _ chunk.Layout = (*Client)(nil)

func (c *Client) GetLayout(ctx context.Context, ino uint64, first, count uint64) ([]chunk.Block, error) {
	var r wire.Blocks
	err := c.call(ctx, wire.OpGetLayout, &wire.GetLayout{Ino: ino, First: first, Count: count}, &r)
	return r.Blocks, err
}

func (c *Client) NewObjectIDs(ctx context.Context, n int) (uint64, error) {
	var r wire.U64
	err := c.call(ctx, wire.OpNewObjectIDs, &wire.U64{V: uint64(n)}, &r)
	return r.V, err
}

func (c *Client) CommitWrite(ctx context.Context, ino uint64, w chunk.Write) error {
	defer c.changedHere(ino)
	return c.call(ctx, wire.OpCommitWrite, &wire.CommitWrite{Ino: ino, W: w}, nil)
}

// Objects returns the volume's object store as reached through the
// service.
func (c *Client) Objects() *Objects { return &Objects{c: c} }

// Objects is a blob.Store whose objects the service stores.
type Objects struct {
	c *Client
}

var (
	_ blob.Store  = (*Objects)(nil)
	_ blob.Syncer = (*Objects)(nil)
)

func (o *Objects) Put(ctx context.Context, key string, data []byte) error {
	return o.c.call(ctx, wire.OpBlobPut, &wire.BlobPut{Key: key, Data: data}, nil)
}

func (o *Objects) Get(ctx context.Context, key string, off, length int64) ([]byte, error) {
	var r wire.Data
	err := o.c.call(ctx, wire.OpBlobGet, &wire.BlobGet{Key: key, Off: off, Length: length}, &r)
	if errors.Is(err, syscall.ENOENT) {
		return nil, blob.ErrNotFound
	}
	return r.B, err
}

func (o *Objects) Delete(ctx context.Context, key string) error {
	return o.c.call(ctx, wire.OpBlobDelete, &wire.BlobPut{Key: key}, nil)
}

func (o *Objects) List(ctx context.Context, prefix string, fn func(blob.Object) error) error {
	after := ""
	for {
		var r wire.Objects
		if err := o.c.call(ctx, wire.OpBlobList, &wire.BlobList{Prefix: prefix, After: after, Max: 1000}, &r); err != nil {
			return err
		}
		for _, obj := range r.Objects {
			if err := fn(obj); err != nil {
				return err
			}
			after = obj.Key
		}
		if !r.More || len(r.Objects) == 0 {
			return nil
		}
	}
}

func (o *Objects) Sync(ctx context.Context) error {
	return o.c.call(ctx, wire.OpBlobSync, &wire.Empty{}, nil)
}
