package lease

import (
	"testing"
	"time"
)

// The counts follow the table's events: new sessions and leases only,
// recalls with targets, and expiries by cause.
func TestCounts(t *testing.T) {
	cfg := Config{Period: 10 * time.Second, RecallTimeout: time.Second}
	tb := New(cfg)
	now := epoch
	tb.Open(1, now)
	tb.Open(2, now)
	tb.Open(1, now) // a renewal
	tb.Grant(1, 100)
	tb.Grant(1, 100) // held already
	tb.Grant(2, 100)
	tb.Grant(2, 200)
	tb.Grant(3, 300) // no such session
	if _, targets := tb.Recall([]uint64{300}, 0, now); len(targets) != 0 {
		t.Fatalf("a recall of an inode nobody holds has targets %v", targets)
	}
	if _, targets := tb.Recall([]uint64{100, 200}, 1, now); len(targets) != 1 {
		t.Fatalf("recall targets %v, want [2]", targets)
	}
	// Session 2 misses the recall's deadline; session 1 lapses later.
	now = now.Add(cfg.RecallTimeout)
	if exp, _ := tb.Tick(now); len(exp) != 1 || exp[0] != 2 {
		t.Fatalf("expired %v at the recall deadline, want [2]", exp)
	}
	now = now.Add(cfg.Period)
	if exp, _ := tb.Tick(now); len(exp) != 1 || exp[0] != 1 {
		t.Fatalf("expired %v after the period, want [1]", exp)
	}
	want := Counts{Opened: 2, Granted: 3, Recalls: 1, RecallTargets: 1, Expired: 2, MissedRecalls: 1}
	if got := tb.Counts(); got != want {
		t.Errorf("Counts() = %+v\nwant       %+v", got, want)
	}
}
