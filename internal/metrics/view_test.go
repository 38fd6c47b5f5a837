package metrics

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scrapeText is a mount's scrape with n lookups (1 µs each, one ENOENT),
// hits block cache hits and one miss.
func scrapeText(t *testing.T, n, hits int) Families {
	t.Helper()
	r := New()
	ops := NewFUSEOps()
	for i := range n {
		errno := 0
		if i == 0 {
			errno = 2
		}
		ops.Record(fuseLookup, time.Microsecond, syscallErrno(errno))
	}
	ops.Record(fuseMkdir, 300*time.Microsecond, 0)
	r.Register(ops)
	r.Counter("ferry_block_cache_hits_total", "h", func() uint64 { return uint64(hits) })
	r.Counter("ferry_block_cache_shared_total", "s", func() uint64 { return 0 })
	r.Counter("ferry_block_cache_misses_total", "m", func() uint64 { return 1 })
	r.Gauge("ferry_block_cache_bytes", "b", func() float64 { return 3 << 20 })
	return gather(t, r)
}

func TestRender(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	prev := Snapshot{At: t0, F: scrapeText(t, 10, 1)}
	cur := Snapshot{At: t0.Add(2 * time.Second), F: scrapeText(t, 30, 3)}
	var b strings.Builder
	if err := Render(&b, "mount /x (/vol)", prev, cur); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, re := range []string{
		`(?m)^ferry stats  mount /x \(/vol\)  2026-01-02 03:04:07$`,
		`(?m)^\s+op\s+total\s+per s\s+p50\s+p99\s+errors\s*$`,
		// 20 lookups in 2 s, all in the 1 µs bucket, one failure in all.
		`(?m)^\s+lookup\s+30\s+10\s+0.5us\s+1.0us\s+1\s*$`,
		// No mkdir in the interval: percentiles since the start, marked.
		`(?m)^\s+mkdir\s+1\s+0\s+\d+us\*\s+\d+us\*\s+0\s*$`,
		`(?m)^errors by kind: ENOENT 1$`,
		`(?m)^block cache\s+hits 3 \(1/s\), misses 1 \(0/s\), hit ratio 75%, holds 3.0 MiB$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("view does not match %s:\n%s", re, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("the view holds terminal control characters")
	}
	// The first view of a source has no rates.
	b.Reset()
	if err := Render(&b, "x", Snapshot{}, cur); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\s+lookup\s+30\s+-\s+0.5us\*`).MatchString(b.String()) {
		t.Errorf("a view without a previous scrape:\n%s", b.String())
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{num(3), "3"}, {num(2.5), "2.5"}, {dur(5e-6), "5.0us"}, {dur(50e-6), "50us"}, {dur(0.0123), "12.3ms"}, {dur(2.5), "2.50s"},
		{byteSize(100), "100 B"}, {byteSize(1536), "1.5 KiB"}, {ratio(1, 4), "25%"}, {ratio(0, 0), "-"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func syscallErrno(e int) syscall.Errno { return syscall.Errno(e) }
