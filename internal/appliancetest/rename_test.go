package appliancetest

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
)

var renames = flag.Int("ferry.renames", 500, "rename-on-A, stat-on-B trials in TestRenameThenStat")

// lstatIno returns the inode number of path, or 0 with the error.
func lstatIno(path string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// TestRenameThenStat renames a file on A, then stats its old and new
// names on B, whose kernel caches both (B looked at both before the
// rename): B must see the new state every time. The rename waits for B's
// recall; the same renames in a directory B never looked at need none,
// and the difference between the two is the cost of the recall, logged
// (p50, p99).
func TestRenameThenStat(t *testing.T) {
	a, b := pair(t)
	for _, d := range []string{"shared", "solo"} {
		if err := os.Mkdir(a.Path(d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(a.Path(d+"/x"), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names := [2]string{"x", "y"}
	n := *renames
	shared := make([]time.Duration, 0, n)
	solo := make([]time.Duration, 0, n)
	deadline := time.Now().Add(5 * time.Minute)
	for i := range n {
		if time.Now().After(deadline) {
			t.Logf("stopped after %d trials: time bound", i)
			break
		}
		from, to := names[i%2], names[(i+1)%2]
		// B looks at both names: the old one found, the new one missing,
		// both now in its kernel's caches.
		want, err := lstatIno(b.Path("shared/" + from))
		if err != nil {
			t.Fatalf("trial %d: B stats %s before the rename: %v", i, from, err)
		}
		if _, err := lstatIno(b.Path("shared/" + to)); err != syscall.ENOENT {
			t.Fatalf("trial %d: B stats %s before the rename: %v, want ENOENT", i, to, err)
		}

		t0 := time.Now()
		if err := os.Rename(a.Path("shared/"+from), a.Path("shared/"+to)); err != nil {
			t.Fatalf("trial %d: rename on A: %v", i, err)
		}
		shared = append(shared, time.Since(t0))

		if _, err := lstatIno(b.Path("shared/" + from)); err != syscall.ENOENT {
			t.Fatalf("trial %d: after the rename on A, B stats the old name %s: %v, want ENOENT", i, from, err)
		}
		got, err := lstatIno(b.Path("shared/" + to))
		if err != nil || got != want {
			t.Fatalf("trial %d: after the rename on A, B stats the new name %s: inode %d, %v; want inode %d", i, to, got, err, want)
		}

		t0 = time.Now()
		if err := os.Rename(a.Path("solo/"+from), a.Path("solo/"+to)); err != nil {
			t.Fatalf("trial %d: rename on A in solo: %v", i, err)
		}
		solo = append(solo, time.Since(t0))
	}
	t.Logf("%d trials, B saw the new state in every one", len(shared))
	t.Logf("rename on A, B holding leases: %s", percentiles(shared))
	t.Logf("rename on A, nobody else holding: %s", percentiles(solo))
}

func percentiles(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p int) time.Duration { return s[min(len(s)*p/100, len(s)-1)].Round(time.Microsecond) }
	return fmt.Sprintf("p50 %v, p99 %v (n=%d)", at(50), at(99), len(s))
}
