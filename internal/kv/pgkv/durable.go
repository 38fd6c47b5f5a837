package pgkv

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ferryfs/ferry/internal/kv"
)

// Commits are asynchronous and Sync flushes the WAL once for all of them.
// A caller that syncs after every commit (ferry serve, durable before it
// replies) would pay a round trip for each Sync on top of its commit; the
// store notices that pattern (a Sync that finds exactly one commit to
// flush) and turns eager: each commit then flushes the WAL itself, in its
// own batch (SET LOCAL synchronous_commit = on before COMMIT), and the Sync
// that follows has nothing left to do. Two commits with no Sync between
// them turn it back.

// Sync implements kv.Store. Only a store that commits asynchronously has
// anything to flush, and only when an Update committed since the last Sync
// without flushing.
func (s *Store) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.gate.Enter() {
		return kv.ErrClosed
	}
	defer s.gate.Leave()
	s.syncCalls.Add(1)
	upTo := s.commits.Load()
	synced := s.synced.Load()
	if !s.flush || synced >= upTo {
		return nil
	}
	if upTo-synced == 1 {
		s.eager.Store(true)
	}
	s.stats.RoundTrips.Add(1)
	// The simple protocol sends the four statements as one message.
	if _, err := s.pool.Exec(ctx, syncSQL, pgx.QueryExecModeSimpleProtocol); err != nil {
		return s.errorf("sync", err)
	}
	s.markSynced(upTo)
	return nil
}

// markSynced records that the first upTo commits are durable.
func (s *Store) markSynced(upTo uint64) {
	for {
		old := s.synced.Load()
		if old >= upTo || s.synced.CompareAndSwap(old, upTo) {
			return
		}
	}
}

// eagerCommit says whether the commit about to be sent flushes the WAL
// itself, and turns eagerness off when no Sync came since the last commit.
func (s *Store) eagerCommit() bool {
	if !s.flush {
		return false
	}
	if s.syncCalls.Swap(0) == 0 {
		s.eager.Store(false)
		return false
	}
	return s.eager.Load()
}

// committed counts a commit of writes; an eager one made every commit
// counted before it was sent durable (their records precede its own in the
// WAL), and itself too when none completed in between.
func (s *Store) committed(eager bool, before uint64) {
	n := s.commits.Add(1)
	if !eager {
		return
	}
	if n == before+1 {
		before = n
	}
	s.markSynced(before)
}
