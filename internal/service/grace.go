package service

import (
	"context"
	"time"

	"github.com/ferryfs/ferry/internal/lease"
	"github.com/ferryfs/ferry/internal/wire"
)

// A service that restarts has lost its lease table, but its clients'
// kernels may still cache what they were handed. The sessions it had are
// recorded in the metadata store; until each has reconnected (and dropped
// its caches), or a lease period plus a recall timeout has passed (by
// then every client that did not renew has dropped them on its own),
// changes wait. Reads go on, unless a recorded session held directory
// delegations: it may have answered creates the service never saw, which
// it sends again once back, and until it said it is done (OpReclaimed
// comes after them) reads wait too, so nobody sees a directory without
// them. Files unlinked while open are purged only after the grace period,
// once the clients that still have them open said so again (OpHold).

func (s *Service) startGrace(ctx context.Context) error {
	ids, err := s.meta.Sessions(ctx)
	if err != nil {
		return err
	}
	s.dropStrayLocks(ctx, ids)
	if len(ids) == 0 {
		s.endGrace("")
		return nil
	}
	s.mu.Lock()
	s.recovering = make(map[lease.SessionID]bool, len(ids))
	for id, delegating := range ids {
		s.recovering[lease.SessionID(id)] = true
		if delegating {
			s.holdReads.Store(true)
		}
	}
	s.mu.Unlock()
	d := s.opts.LeasePeriod + s.opts.RecallTimeout
	s.log.Info("grace period: waiting for the clients of the previous run before allowing changes", "sessions", len(ids), "for", d)
	s.graceTimer = time.AfterFunc(d, func() { s.endGrace("grace period over") })
	return nil
}

// endGrace lets changes through, forgets the sessions that did not come
// back and purges the orphans nobody reopened.
func (s *Service) endGrace(why string) {
	s.graceOnce.Do(func() {
		s.mu.Lock()
		gone := s.recovering
		s.recovering = nil
		s.mu.Unlock()
		defer s.holdReads.Store(false)
		ctx := context.Background()
		for id := range gone {
			if err := s.meta.CloseSession(ctx, uint64(id)); err != nil {
				s.log.Warn("removing a lost session's records failed", "session", uint64(id), "cause", err)
			}
		}
		if err := s.meta.ReclaimOrphans(ctx); err != nil {
			s.log.Error("reclaiming orphans failed", "cause", err)
		}
		if why != "" {
			s.log.Info("grace period ended", "why", why, "sessions_lost", len(gone))
		}
		close(s.graceDone)
	})
}

func (s *Service) stopGrace() {
	if s.graceTimer != nil {
		s.graceTimer.Stop()
	}
}

// sessionOp reports whether op is about the session itself, not the
// file system: it goes through during the grace period.
func sessionOp(op wire.Op) bool {
	switch op {
	case wire.OpHeartbeat, wire.OpForget, wire.OpRecallAck, wire.OpBye, wire.OpReclaimed:
		return true
	}
	return false
}

// awaitGrace waits until changes are allowed.
func (s *Service) awaitGrace(ctx context.Context) error {
	select {
	case <-s.graceDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
