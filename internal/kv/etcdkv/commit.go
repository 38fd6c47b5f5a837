package etcdkv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxPassedCompares is how many keys passed by scans get a comparison of
// their own; past it, one comparison of the delete epoch stands for all.
const maxPassedCompares = 64

// Estimated encoding overhead of one operation or comparison and of the
// request as a whole, in bytes, on top of its keys and values; generous, so
// that an accepted estimate is never refused by the cluster.
const (
	opOverhead  = 32
	reqOverhead = 1024
)

// commit sends the transaction's writes with comparisons on all it read.
// It reports false when a comparison failed (a conflict: nothing was
// applied). A transaction that wrote nothing commits without a request:
// its reads all came from one revision.
func (t *txn) commit() (bool, error) {
	if t.writes.Len() == 0 {
		return true, nil
	}
	s := t.snap.s
	cmps, size := t.compares()
	ops := make([]clientv3.Op, 0, t.writes.Len()+1)
	t.writes.Ascend(func(w write) bool {
		key := s.data + w.key
		if w.del {
			ops = append(ops, clientv3.OpDelete(key))
		} else {
			ops = append(ops, clientv3.OpPut(key, string(w.value)))
		}
		size += len(key) + len(w.value) + opOverhead
		return true
	})
	if t.dels > 0 {
		ops = append(ops, clientv3.OpPut(s.epochKey, ""))
		size += len(s.epochKey) + opOverhead
	}
	if err := s.checkLimits(len(cmps), len(ops), size); err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(t.snap.ctx, s.opts.RequestTimeout)
	defer cancel()
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil && notApplied(err) && t.snap.ctx.Err() == nil {
		return false, fmt.Errorf("etcdkv: commit: %w: %w: %v", ErrUnreachable, errNotApplied, err)
	}
	if err != nil {
		return false, s.rpcError(t.snap.ctx, ctx, "commit", err, true)
	}
	return resp.Succeeded, nil
}

// errNotApplied marks a commit the cluster refused without applying it,
// for a reason that passes (no leader during an election, overload):
// Update runs the transaction again, as after a conflict.
var errNotApplied = errors.New("not applied")

// notApplied reports whether a commit's error says for certain that the
// cluster did not apply it.
func notApplied(err error) bool {
	return errors.Is(err, rpctypes.ErrNoLeader) || errors.Is(err, rpctypes.ErrTooManyRequests) ||
		strings.Contains(err.Error(), "raft proposal dropped")
}

// compares returns the comparisons that hold only if nothing the
// transaction read has changed since its read revision, and their size:
//   - every key it got still has the mod revision it saw (0 for a missing
//     key: it is still missing);
//   - no key in a range it scanned was created or changed after the read
//     revision;
//   - no key a scan passed was deleted: each still has the mod revision
//     the scan saw, or, past maxPassedCompares of them, no transaction
//     that deletes has committed since the read revision.
func (t *txn) compares() ([]clientv3.Cmp, int) {
	s := t.snap.s
	after := t.snap.rev + 1
	spans := mergeSpans(t.scanned)
	var cmps []clientv3.Cmp
	size := 0
	add := func(c clientv3.Cmp, n int) {
		cmps = append(cmps, c)
		size += n + opOverhead
	}
	for k, g := range t.got {
		add(clientv3.Compare(clientv3.ModRevision(k), "=", g.modRev), len(k))
	}
	var passed []string
	for k := range t.passed {
		if _, ok := t.got[k]; !ok {
			passed = append(passed, k)
		}
	}
	if len(passed) > maxPassedCompares || len(cmps)+len(passed)+len(spans) > s.opts.MaxTxnOps {
		add(clientv3.Compare(clientv3.ModRevision(s.epochKey), "<", after), len(s.epochKey))
	} else {
		for _, k := range passed {
			add(clientv3.Compare(clientv3.ModRevision(k), "=", t.passed[k]), len(k))
		}
	}
	for _, sp := range spans {
		add(clientv3.Compare(clientv3.ModRevision(sp.lo), "<", after).WithRange(sp.hi), len(sp.lo)+len(sp.hi))
	}
	return cmps, size
}

// checkLimits refuses, before sending it, a transaction the cluster would
// refuse.
func (s *Store) checkLimits(cmps, ops, size int) error {
	if n := max(cmps, ops); n > s.opts.MaxTxnOps {
		what := "writes"
		if cmps > ops {
			what = "reads to check"
		}
		return fmt.Errorf("etcdkv: commit: %w: %d %s, over max-txn-ops=%d (raise the cluster's --max-txn-ops and the URL's max-txn-ops)",
			ErrTooLarge, n, what, s.opts.MaxTxnOps)
	}
	if size+reqOverhead > s.opts.MaxRequestBytes {
		return fmt.Errorf("etcdkv: commit: %w: about %d bytes, over max-request-bytes=%d (raise the cluster's --max-request-bytes and the URL's max-request-bytes)",
			ErrTooLarge, size+reqOverhead, s.opts.MaxRequestBytes)
	}
	return nil
}

// mergeSpans sorts spans and merges those that overlap or touch.
func mergeSpans(spans []span) []span {
	if len(spans) < 2 {
		return spans
	}
	sorted := slices.Clone(spans)
	slices.SortFunc(sorted, func(a, b span) int { return strings.Compare(a.lo, b.lo) })
	out := sorted[:1]
	for _, sp := range sorted[1:] {
		last := &out[len(out)-1]
		if sp.lo <= last.hi {
			last.hi = max(last.hi, sp.hi)
			continue
		}
		out = append(out, sp)
	}
	return out
}
