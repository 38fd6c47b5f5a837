package etcdkv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// A commit whose answer is lost (its member died, the connection broke)
// may or may not have been applied. To find out, every commit also
// creates a marker key of its own, on condition that it does not exist
// yet; after a lost answer the store asks the cluster, in one transaction,
// to create the marker with the value "fenced" if it is still missing,
// and else to return it:
//
//   - the marker exists with an empty value: the commit was applied;
//   - the fence was created (now or by an earlier try whose answer was
//     lost too): the commit was not applied, and never will be, since its
//     condition on the marker now fails; the Update runs again.
//
// The fence is a linearizable write, so it is ordered after everything the
// cluster has committed, the lost commit included if it ever got there.
// Markers of finished commits are deleted by later commits of the same
// store (a few per commit), fences only after fenceGrace, when no copy of
// the lost request can still be on its way. A store that is closed or
// killed leaves at most one marker per Update it had in flight.

const (
	fenced       = "fenced"
	fenceGrace   = time.Minute
	maxMarkerDel = 16 // marker deletions carried by one commit
)

// markers hands out marker keys and keeps those waiting for deletion.
type markers struct {
	prefix string // ns + "m/c/" + a random id of this store + "/"
	seq    atomic.Uint64

	mu     sync.Mutex
	done   []string    // deletable now
	fences []fenceMark // deletable after fenceGrace
}

type fenceMark struct {
	key string
	at  time.Time
}

func newMarkers(ns string) (*markers, error) {
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("etcdkv: store id: %w", err)
	}
	return &markers{prefix: ns + "m/c/" + hex.EncodeToString(id[:]) + "/"}, nil
}

// next returns a fresh marker key.
func (m *markers) next() string {
	return fmt.Sprintf("%s%016x", m.prefix, m.seq.Add(1))
}

// take removes up to n markers that may be deleted now and returns them.
func (m *markers) take(n int, now time.Time) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.fences) > 0 && now.Sub(m.fences[0].at) > fenceGrace {
		m.done = append(m.done, m.fences[0].key)
		m.fences = m.fences[1:]
	}
	n = max(0, min(n, len(m.done)))
	out := append([]string(nil), m.done[len(m.done)-n:]...)
	m.done = m.done[:len(m.done)-n]
	return out
}

// finished records markers whose commits are settled: applied, or refused
// before anything was applied. Deleting one that is gone does no harm.
func (m *markers) finished(keys ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done = append(m.done, keys...)
}

// fence records a marker that stands as a fence.
func (m *markers) fence(key string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fences = append(m.fences, fenceMark{key, now})
}

// resolve finds out whether the commit that created marker was applied,
// fencing it off if it was not. It tries for one request timeout at most;
// an error means it could not tell.
func (s *Store) resolve(parent context.Context, marker string) (applied bool, err error) {
	ctx, cancel := context.WithTimeout(parent, s.opts.RequestTimeout)
	defer cancel()
	backoff := 10 * time.Millisecond
	for {
		actx, acancel := context.WithTimeout(ctx, s.opts.RequestTimeout/4)
		resp, err := s.cli.Txn(actx).
			If(clientv3.Compare(clientv3.CreateRevision(marker), "=", 0)).
			Then(clientv3.OpPut(marker, fenced)).
			Else(clientv3.OpGet(marker)).
			Commit()
		acancel()
		if err == nil {
			if resp.Succeeded {
				return false, nil
			}
			kvs := resp.Responses[0].GetResponseRange().GetKvs()
			return len(kvs) == 1 && len(kvs[0].Value) == 0, nil
		}
		if ctx.Err() != nil {
			return false, err
		}
		backoff = s.pause(ctx, backoff)
	}
}
