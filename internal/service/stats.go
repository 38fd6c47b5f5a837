package service

import "github.com/ferryfs/ferry/internal/lease"

// LeaseStats returns what the lease table holds (live sessions, leases,
// pending recalls) and its events so far (sessions opened and expired,
// leases granted, recalls sent), for metrics.
func (s *Service) LeaseStats() (lease.Stats, lease.Counts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.table.Stats(), s.table.Counts()
}
