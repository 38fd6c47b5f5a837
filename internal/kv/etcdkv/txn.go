package etcdkv

import (
	"bytes"
	"context"

	"github.com/google/btree"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/ferryfs/ferry/internal/kv"
)

// write is one pending Set or Delete of a transaction, by store key.
type write struct {
	key   string
	value []byte
	del   bool
}

func writeLess(a, b write) bool { return a.key < b.key }

// span is a scanned range of full keys, [lo, hi).
type span struct{ lo, hi string }

// txn is the kv.Txn of Update. It reads through a snapshot and remembers
// what it read: the mod revision of every key it got (0 for a missing
// one), of every key its scans passed, and the ranges they covered. commit
// turns that into the comparisons of one etcd transaction.
type txn struct {
	snap    snapshot
	writes  *btree.BTreeG[write]
	dels    int            // pending Deletes, for the epoch bump
	got     map[string]got // full key -> what Get saw
	passed  map[string]int64
	scanned []span
	err     error // the first read that failed: the transaction cannot commit
}

// fail records a failed read and returns it. A transaction one of whose
// reads failed never commits, even if fn goes on and returns nil: what it
// did not read, it cannot check.
func (t *txn) fail(err error) error {
	if t.err == nil {
		t.err = err
	}
	return err
}

// got is what a Get read: the value (nil when missing) and its revision.
type got struct {
	value  []byte
	modRev int64
	found  bool
}

func newTxn(s *Store, ctx context.Context) *txn {
	return &txn{
		snap:   snapshot{s: s, ctx: ctx},
		writes: btree.NewG(16, writeLess),
		got:    map[string]got{},
		passed: map[string]int64{},
	}
}

func (t *txn) Get(key []byte) ([]byte, error) {
	if w, ok := t.writes.Get(write{key: string(key)}); ok {
		if w.del {
			return nil, kv.ErrNotFound
		}
		return valueOf(w.value), nil
	}
	full := t.snap.s.data + string(key)
	g, ok := t.got[full]
	if !ok {
		kvp, err := t.snap.get(full, "txn get")
		if err != nil {
			return nil, t.fail(err)
		}
		if kvp != nil {
			g = got{value: kvp.Value, modRev: kvp.ModRevision, found: true}
		}
		t.got[full] = g
	}
	if !g.found {
		return nil, kv.ErrNotFound
	}
	return valueOf(g.value), nil
}

func (t *txn) Set(key, value []byte) {
	t.put(write{key: string(key), value: bytes.Clone(value)})
}

func (t *txn) Delete(key []byte) {
	t.put(write{key: string(key), del: true})
}

func (t *txn) put(w write) {
	if old, ok := t.writes.ReplaceOrInsert(w); ok && old.del {
		t.dels--
	}
	if w.del {
		t.dels++
	}
}

// Scan merges the pending writes of [start, end) over the snapshot's
// pairs. It records every stored key it passes and, once it stops, the
// range it covered: up to and including the last key it showed fn, or the
// whole range if fn never stopped it.
func (t *txn) Scan(start, end []byte, fn func(k, v []byte) bool) error {
	s := t.snap.s
	lo, hi, ok := s.bounds(start, end)
	if !ok {
		return nil
	}
	// A copy of the pending writes in range, so that fn's nested reads
	// cannot disturb the merge.
	var pend []write
	from, to := write{key: lo[len(s.data):]}, write{key: hi[len(s.data):]}
	collect := func(w write) bool { pend = append(pend, w); return true }
	if end == nil {
		t.writes.AscendGreaterOrEqual(from, collect)
	} else {
		t.writes.AscendRange(from, to, collect)
	}
	n := len(s.data)
	stopped := ""
	// emit shows fn one pair; it reports false, after recording where the
	// scan stopped, when fn wants no more.
	emit := func(k string, v []byte) bool {
		if fn([]byte(k), v) {
			return true
		}
		stopped = s.data + k
		return false
	}
	i := 0
	err := t.snap.scan(lo, hi, func(kvp *mvccpb.KeyValue) bool {
		k := string(kvp.Key[n:])
		for ; i < len(pend) && pend[i].key < k; i++ {
			if !pend[i].del && !emit(pend[i].key, pend[i].value) {
				return false
			}
		}
		t.passed[string(kvp.Key)] = kvp.ModRevision
		if i < len(pend) && pend[i].key == k {
			w := pend[i]
			i++
			return w.del || emit(k, w.value)
		}
		return emit(k, kvp.Value)
	})
	if err != nil {
		return t.fail(err)
	}
	for ; stopped == "" && i < len(pend); i++ {
		if !pend[i].del && !emit(pend[i].key, pend[i].value) {
			break
		}
	}
	if stopped != "" {
		hi = stopped + "\x00"
	}
	t.scanned = append(t.scanned, span{lo, hi})
	return nil
}
