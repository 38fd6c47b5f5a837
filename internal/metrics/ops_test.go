package metrics

import (
	"math"
	"syscall"
	"testing"
	"time"
)

func TestBucketOf(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Microsecond, 0},
		{time.Microsecond + 1, 1},
		{2 * time.Microsecond, 1},
		{3 * time.Microsecond, 2},
		{4 * time.Microsecond, 2},
		{4*time.Microsecond + 1, 3},
		{time.Millisecond, 10}, // 1000 µs <= 1024 µs
		{1025 * time.Microsecond, 11},
		{4 * time.Second, 22}, // <= 2^22 µs = 4.19 s
		{5 * time.Second, latencyBuckets},
		{time.Hour, latencyBuckets},
	} {
		if got := bucketOf(c.d); got != c.want {
			t.Errorf("bucketOf(%v) = %d, want %d", c.d, got, c.want)
		}
		if k := bucketOf(c.d); c.d > 0 && c.d.Seconds() > bucketBound(k) {
			t.Errorf("%v is in bucket %d, whose bound is %vs", c.d, k, bucketBound(k))
		}
	}
}

// What Record counts comes out of a scrape: counts per op, latency
// buckets and sum, failures by op and errno.
func TestOpsScrape(t *testing.T) {
	ops := NewOps("ferry_test_op", "test operation", []string{"alpha", "beta", "idle"})
	for range 3 {
		ops.Record(0, 3*time.Microsecond, 0)
	}
	ops.Record(0, 2*time.Millisecond, syscall.ENOENT)
	ops.Record(1, time.Minute, syscall.EIO)
	ops.Record(1, time.Microsecond, syscall.EIO)
	ops.Record(1, time.Microsecond, syscall.Errno(maxErrno+5)) // counted as "other"
	ops.Record(7, time.Second, 0)                              // out of range: ignored
	r := New()
	r.Register(ops)
	f := gather(t, r)
	for _, c := range []struct {
		name  string
		got   float64
		want  float64
		delta float64
	}{
		{"alpha count", f.Count("ferry_test_op_duration_seconds", "op", "alpha"), 4, 0},
		{"beta count", f.Count("ferry_test_op_duration_seconds", "op", "beta"), 3, 0},
		{"idle count", f.Count("ferry_test_op_duration_seconds", "op", "idle"), 0, 0},
		{"alpha ENOENT", f.Value("ferry_test_op_errors_total", "op", "alpha", "errno", "ENOENT"), 1, 0},
		{"beta EIO", f.Value("ferry_test_op_errors_total", "op", "beta", "errno", "EIO"), 2, 0},
		{"beta other", f.Value("ferry_test_op_errors_total", "op", "beta", "errno", "other"), 1, 0},
		{"all errors", f.Value("ferry_test_op_errors_total"), 4, 0},
		{"alpha sum", f["ferry_test_op_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleSum(), 0.002009, 1e-9},
	} {
		if math.Abs(c.got-c.want) > c.delta {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(f["ferry_test_op_duration_seconds"].GetMetric()) != 2 {
		t.Errorf("ops that never ran are scraped: %v", f["ferry_test_op_duration_seconds"])
	}
	h := f.hists("ferry_test_op_duration_seconds")
	if p := h["alpha"].quantile(0.5); p <= 2e-6 || p > 4e-6 {
		t.Errorf("alpha p50 = %v, want within (2 µs, 4 µs]", p)
	}
	if p := h["alpha"].quantile(0.99); p <= 1.024e-3 || p > 2.048e-3 {
		t.Errorf("alpha p99 = %v, want within (1.024 ms, 2.048 ms]", p)
	}
	if p := h["beta"].quantile(0.99); !math.IsInf(p, 1) {
		t.Errorf("beta p99 = %v, want +Inf (a minute is beyond the last bucket)", p)
	}
}

// gather scrapes r as `ferry stats` reads it: text, parsed back.
func gather(t *testing.T, r *Registry) Families {
	t.Helper()
	text, err := r.Text()
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Recording allocates nothing, including the first failure of an op
// after the one that allocated its errno table.
func TestRecordAllocs(t *testing.T) {
	ops := NewFUSEOps()
	ops.Record(fuseLookup, time.Millisecond, syscall.ENOENT)
	start := Now()
	if n := testing.AllocsPerRun(1000, func() {
		ops.Since(fuseLookup, start, 0)
		ops.Since(fuseLookup, start, syscall.ENOENT)
	}); n != 0 {
		t.Errorf("recording allocates %v times per op", n)
	}
}

// BenchmarkRecord is the cost of recording one operation, reading the
// clock included, as a decorator does it.
func BenchmarkRecord(b *testing.B) {
	ops := NewFUSEOps()
	b.ReportAllocs()
	for range b.N {
		ops.Since(fuseGetattr, Now(), 0)
	}
}

// BenchmarkRecordOnly is the recording without the clock: the atomic
// adds and the bucket.
func BenchmarkRecordOnly(b *testing.B) {
	ops := NewFUSEOps()
	b.ReportAllocs()
	for i := range b.N {
		ops.Record(fuseGetattr, time.Duration(i&0xffff)*time.Microsecond, 0)
	}
}

// BenchmarkRecordParallel records from every processor at once into one
// op: the contended case.
func BenchmarkRecordParallel(b *testing.B) {
	ops := NewFUSEOps()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ops.Since(fuseGetattr, Now(), 0)
		}
	})
}
