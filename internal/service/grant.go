package service

import "github.com/ferryfs/ferry/internal/lease"

// A read and the lease its reply grants are not one atomic step: a change
// that commits after the read and recalls before the grant would miss the
// reader, whose kernel would then cache the read's stale answer for good.
// So every recall stamps its inodes with a sequence number first (in the
// same critical section that picks its targets), and a grant checks that
// none of its inodes was stamped since the read began; if one was, the
// read runs again. Stamps live in a fixed table of buckets: a collision
// costs a needless retry, never a missed change.

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

// changedSince reports whether any of inos was stamped after snap.
func (st *stamps) changedSince(inos []uint64, snap uint64) bool {
	for _, ino := range inos {
		if st.at[ino%stampBuckets] > snap {
			return true
		}
	}
	return false
}

// snapshot returns the stamp a read starts from.
func (s *Service) snapshot() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stamps.seq
}

// grant gives sess leases on inos unless one of them changed since snap
// and force is false; it reports whether it granted.
func (s *Service) grant(sess lease.SessionID, inos []uint64, snap uint64, force bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !force && s.stamps.changedSince(inos, snap) {
		return false
	}
	for _, ino := range inos {
		s.table.Grant(sess, ino)
	}
	return true
}

// grantRaced gives sess leases on inos and returns those of them stamped
// since snap: changed by another session while this one had no lease on
// them yet.
func (s *Service) grantRaced(sess lease.SessionID, inos []uint64, snap uint64) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var raced []uint64
	for _, ino := range inos {
		if s.stamps.changedSince([]uint64{ino}, snap) {
			raced = append(raced, ino)
		}
		s.table.Grant(sess, ino)
	}
	return raced
}
