package lease

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

// grantShape grants pairs leases over sessions: with shared, every session
// holds the same pairs/sessions inodes; without, each holds its own.
func grantShape(tb *Table, sessions, pairs int, shared bool) {
	per := pairs / sessions
	for s := range sessions {
		id := SessionID(s + 1)
		tb.Open(id, epoch)
		base := uint64(s * per)
		if shared {
			base = 0
		}
		for i := range uint64(per) {
			tb.Grant(id, base+i+1)
		}
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryPerLease grants a million leases and reports what each costs
// (run with -v to see the figures). The bound is loose on purpose: it
// catches a representation gone wrong, not a few bytes.
func TestMemoryPerLease(t *testing.T) {
	if testing.Short() {
		t.Skip("grants a million leases")
	}
	const pairs = 1_000_000
	for _, tc := range []struct {
		name     string
		sessions int
		shared   bool
	}{
		{"4 sessions, distinct inodes", 4, false},
		{"4 sessions, shared inodes", 4, true},
		{"1 session", 1, false},
	} {
		before := heapAfterGC()
		tb := New(scriptConfig)
		grantShape(tb, tc.sessions, pairs, tc.shared)
		after := heapAfterGC()
		if st := tb.Stats(); st.Leases != pairs {
			t.Fatalf("%s: %d leases, want %d", tc.name, st.Leases, pairs)
		}
		per := float64(after-before) / pairs
		t.Logf("%s: %.1f bytes per lease", tc.name, per)
		if per > 400 {
			t.Errorf("%s: %.1f bytes per lease, want well under 400", tc.name, per)
		}
		runtime.KeepAlive(tb)
	}
}

// TestShrink drops most of many leases so that the maps rebuild, and
// checks that nothing is lost and that the memory comes back.
func TestShrink(t *testing.T) {
	const n = 100_000
	before := heapAfterGC()
	tb := New(scriptConfig)
	tb.Open(1, epoch)
	tb.Open(2, epoch)
	for i := range uint64(n) {
		tb.Grant(1, i)
		if i%10 == 0 {
			tb.Grant(2, i)
		}
	}
	full := heapAfterGC()
	for i := range uint64(n - 100) {
		tb.Drop(1, i)
	}
	for i := range uint64(n) {
		want := []SessionID(nil)
		if i%10 == 0 {
			want = append(want, 2)
		}
		if i >= n-100 {
			want = append([]SessionID{1}, want...)
		}
		if got := tb.Holders(i); !slices.Equal(got, want) {
			t.Fatalf("Holders(%d) = %v, want %v", i, got, want)
		}
		if got := tb.Holds(1, i); got != (i >= n-100) {
			t.Fatalf("Holds(1, %d) = %v", i, got)
		}
	}
	if st := tb.Stats(); st.Leases != 100+n/10 || st.Inodes != n/10+90 {
		t.Fatalf("Stats() = %+v", st)
	}
	shrunk := heapAfterGC()
	if grown, left := full-before, shrunk-before; left > grown/2 {
		t.Errorf("after dropping 90%% of the leases the table keeps %d of %d bytes", left, grown)
	}
	runtime.KeepAlive(tb)
}

func BenchmarkGrant(b *testing.B) {
	tb := New(scriptConfig)
	tb.Open(1, epoch)
	for i := range uint64(b.N) {
		tb.Grant(1, i)
	}
}

// BenchmarkRenewTick renews 10,000 sessions round-robin and ticks after
// each renewal: the cost of the heap on the hot path.
func BenchmarkRenewTick(b *testing.B) {
	const sessions = 10_000
	tb := New(scriptConfig)
	for s := range SessionID(sessions) {
		tb.Open(s+1, epoch)
	}
	now := epoch
	for i := range b.N {
		now = now.Add(time.Millisecond)
		tb.Renew(SessionID(i%sessions+1), now)
		if exp, _ := tb.Tick(now); len(exp) > 0 {
			b.Fatalf("expired %v", exp)
		}
	}
}
