package service

import "github.com/ferryfs/ferry/internal/lease"

// A read and the lease its reply grants are not one atomic step: a change
// that commits after the read and recalls before the grant would miss the
// reader, whose kernel would then cache the read's stale answer for good.
// So every recall stamps its inodes with a sequence number first (in the
// same critical section that picks its targets), and a grant checks
// whether any of its inodes was stamped since the call began; if one was,
// a read runs again, and a change pushes its own session a recall of it
// (recall.go, selfRecall). Stamps live in a fixed table of buckets: a
// collision costs a needless retry, never a missed change.

const stampBuckets = 1 << 16

// stamps is guarded by Service.mu.
type stamps struct {
	seq uint64
	at  [stampBuckets]uint64
}

func (st *stamps) bump(inos []uint64) {
	st.seq++
	for _, ino := range inos {
		st.at[ino%stampBuckets] = st.seq
	}
}

// changedSince reports whether ino was stamped after snap.
func (st *stamps) changedSince(ino, snap uint64) bool {
	return st.at[ino%stampBuckets] > snap
}

// snapshot returns the stamp a call starts from, and whether any
// directory is delegated (deleg.go).
func (s *Service) snapshot() (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stamps.seq, s.table.Delegations() > 0
}

// grant gives sess leases on inos and returns those of them stamped since
// snap: changed by another session after the call began, perhaps before
// sess held a lease to be recalled. A read then runs again; a change (or
// a read out of retries) tells its own session, as a recall would. It
// also returns, without granting them, the inodes whose delegation
// another session holds: the caller recalls it, and a read runs again.
func (s *Service) grant(sess lease.SessionID, inos []uint64, snap uint64) (raced, held []uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delegs := s.table.Delegations() > 0
	for _, ino := range inos {
		if delegs {
			if d := s.table.Delegated(ino); d != 0 && d != sess {
				held = append(held, ino)
				continue
			}
		}
		if s.stamps.changedSince(ino, snap) {
			raced = append(raced, ino)
		}
		s.table.Grant(sess, ino)
	}
	return raced, held
}
