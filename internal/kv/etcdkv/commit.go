package etcdkv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
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
// its reads all came from one revision. A commit whose answer is lost is
// resolved through its marker (outcome.go).
func (t *txn) commit() (bool, error) {
	if t.writes.Len() == 0 {
		return true, nil
	}
	s, parent := t.snap.s, t.snap.ctx
	cmps, size := t.compares()
	ops := make([]clientv3.Op, 0, t.writes.Len()+2)
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
	marker := s.markers.next()
	cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(marker), "=", 0))
	ops = append(ops, clientv3.OpPut(marker, ""))
	size += 2 * (len(marker) + opOverhead)
	if err := s.checkLimits(len(cmps), len(ops), size); err != nil {
		return false, err
	}
	room := min(maxMarkerDel, s.opts.MaxTxnOps-len(ops),
		(s.opts.MaxRequestBytes-reqOverhead-size)/(len(marker)+opOverhead))
	old := s.markers.take(room, time.Now())
	for _, k := range old {
		ops = append(ops, clientv3.OpDelete(k))
	}

	ctx, cancel := context.WithTimeout(parent, s.opts.RequestTimeout)
	defer cancel()
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	switch {
	case err == nil && resp.Succeeded:
		s.markers.finished(marker)
		return true, nil
	case err == nil:
		s.markers.finished(old...)
		return false, nil
	case parent.Err() == nil && notApplied(err):
		s.markers.finished(old...)
		return false, fmt.Errorf("etcdkv: commit: %w: %w: %v", ErrUnreachable, errNotApplied, err)
	case parent.Err() != nil || !ambiguous(err):
		s.markers.finished(old...)
		s.markers.fence(marker, time.Now())
		return false, s.rpcError(parent, ctx, "commit", err, true)
	}
	applied, rerr := s.resolve(parent, marker)
	switch {
	case rerr == nil && applied:
		s.log.Info("etcd commit applied although its answer was lost", "err", err)
		s.markers.finished(marker)
		return true, nil
	case rerr == nil:
		s.log.Info("etcd commit not applied and fenced off after its answer was lost", "err", err)
		s.markers.finished(old...)
		s.markers.fence(marker, time.Now())
		return false, fmt.Errorf("etcdkv: commit: %w: %w: %v", ErrUnreachable, errNotApplied, err)
	}
	s.markers.finished(old...)
	s.markers.fence(marker, time.Now())
	return false, s.rpcError(parent, ctx, "commit", err, true)
}

// ambiguous reports whether a commit's error leaves open whether it was
// applied: it was sent, and its answer was lost or never came.
func ambiguous(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	switch codeOf(err) {
	case codes.Unavailable, codes.Unknown, codes.DeadlineExceeded, codes.Canceled, codes.Internal, codes.Aborted:
		return true
	}
	return false
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
