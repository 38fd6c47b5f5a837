package etcdkv

import (
	"bytes"
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ferryfs/ferry/internal/kv"
)

// A scan fetches up to maxPage pairs per request, fewer when they are
// large: about pageBytes of them, judged by the previous page.
const (
	maxPage   = 128
	pageBytes = 4 << 20
)

// snapshot reads the store at one revision: the first read is made at the
// latest revision (a linearizable read) and fixes rev; later ones read at
// rev. Those may be answered by any member from its own state
// (serializable reads, no round trip to the leader); a member that has not
// yet applied rev refuses, and the read is made again linearizably.
type snapshot struct {
	s   *Store
	ctx context.Context
	rev int64 // 0 until the first read
}

// do runs one range request at the snapshot's revision.
func (r *snapshot) do(op, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	if r.rev != 0 {
		opts = append(opts, clientv3.WithRev(r.rev))
	}
	var rctx context.Context
	try := func(extra ...clientv3.OpOption) (*clientv3.GetResponse, error) {
		ctx, cancel := context.WithTimeout(r.ctx, r.s.opts.RequestTimeout)
		defer cancel()
		rctx = ctx
		return r.s.cli.Get(ctx, key, append(opts, extra...)...)
	}
	var resp *clientv3.GetResponse
	var err error
	if r.rev != 0 {
		resp, err = try(clientv3.WithSerializable())
		if errors.Is(err, rpctypes.ErrFutureRev) {
			resp, err = try()
		}
	} else {
		resp, err = try()
	}
	if err != nil {
		return nil, r.s.rpcError(r.ctx, rctx, op, err, false)
	}
	if r.rev == 0 {
		r.rev = resp.Header.Revision
	}
	return resp, nil
}

// get returns the pair stored under the full key, or nil.
func (r *snapshot) get(key, op string) (*mvccpb.KeyValue, error) {
	resp, err := r.do(op, key)
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	return resp.Kvs[0], nil
}

// page returns up to limit pairs of [from, end) and whether more follow.
func (r *snapshot) page(from, end string, limit int) ([]*mvccpb.KeyValue, bool, error) {
	resp, err := r.do("scan", from, clientv3.WithRange(end), clientv3.WithLimit(int64(limit)),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, false, err
	}
	return resp.Kvs, resp.More, nil
}

// bounds maps a scan's [start, end) to full keys; ok is false for an empty
// range.
func (s *Store) bounds(start, end []byte) (lo, hi string, ok bool) {
	if end != nil && bytes.Compare(start, end) >= 0 {
		return "", "", false
	}
	lo, hi = s.data+string(start), s.dataEnd
	if end != nil {
		hi = s.data + string(end)
	}
	return lo, hi, true
}

// scan calls visit for every pair of [lo, hi) in key order until visit
// returns false.
func (r *snapshot) scan(lo, hi string, visit func(kvp *mvccpb.KeyValue) bool) error {
	limit := maxPage
	for from := lo; ; {
		kvs, more, err := r.page(from, hi, limit)
		if err != nil {
			return err
		}
		size := 0
		for _, kvp := range kvs {
			if !visit(kvp) {
				return nil
			}
			size += len(kvp.Key) + len(kvp.Value)
		}
		if !more || len(kvs) == 0 {
			return nil
		}
		from = string(kvs[len(kvs)-1].Key) + "\x00"
		limit = max(1, min(maxPage, pageBytes*len(kvs)/max(size, 1)))
	}
}

// view is the kv.Reader of View.
type view struct {
	snap snapshot
}

func (v *view) Get(key []byte) ([]byte, error) {
	kvp, err := v.snap.get(v.snap.s.data+string(key), "view get")
	if err != nil {
		return nil, err
	}
	if kvp == nil {
		return nil, kv.ErrNotFound
	}
	return valueOf(kvp.Value), nil
}

func (v *view) Scan(start, end []byte, fn func(k, v []byte) bool) error {
	lo, hi, ok := v.snap.s.bounds(start, end)
	if !ok {
		return nil
	}
	n := len(v.snap.s.data)
	return v.snap.scan(lo, hi, func(kvp *mvccpb.KeyValue) bool {
		return fn(kvp.Key[n:], kvp.Value)
	})
}
