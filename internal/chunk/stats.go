package chunk

import "sync/atomic"

// CacheStats counts the block cache's answers since the Store was made:
// how many reads of an object found it cached (Hits), joined a fetch of
// it already under way (Shared), or had to fetch it from the object store
// (Misses); and the memory it holds.
type CacheStats struct {
	Hits, Shared, Misses uint64
	Bytes, MaxBytes      int64
}

type cacheCounts struct {
	hits, shared, misses atomic.Uint64
}

// CacheStats returns the block cache's counts.
func (s *Store) CacheStats() CacheStats {
	c := s.cache
	return CacheStats{
		Hits:     c.counts.hits.Load(),
		Shared:   c.counts.shared.Load(),
		Misses:   c.counts.misses.Load(),
		Bytes:    c.usedBytes(),
		MaxBytes: c.max,
	}
}
