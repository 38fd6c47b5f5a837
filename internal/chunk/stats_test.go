package chunk

import (
	"context"
	"testing"
)

// A read of an object not cached is a miss; the next read of it a hit.
func TestCacheStats(t *testing.T) {
	r := newRig(t, Options{BlockSize: 16 << 10})
	const ino = 2
	committedFile(t, r, ino, fill(make([]byte, 1000), 5))
	before := r.s.CacheStats()
	p := make([]byte, 100)
	for range 2 {
		if _, err := r.s.Read(context.Background(), ino, p, 0, 1000); err != nil {
			t.Fatal(err)
		}
	}
	got := r.s.CacheStats()
	if got.Misses-before.Misses != 1 || got.Hits-before.Hits != 1 || got.Bytes <= 0 || got.MaxBytes <= 0 {
		t.Errorf("after two reads of one object: %+v (before %+v); want one miss, one hit, bytes held", got, before)
	}
}
