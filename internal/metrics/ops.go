package metrics

import (
	"math"
	"math/bits"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

// Latency buckets: bucket k counts durations of at most 2^k µs, from
// 1 µs to about 4.2 s; the last bucket is everything slower.
const (
	latencyBuckets = 23
	nBuckets       = latencyBuckets + 1
)

// maxErrno bounds the errnos counted by number; a larger one (none on
// Linux) is counted as errno 0, "other".
const maxErrno = 160

// Ops records the count, latency and failures of each operation of one
// family, such as FUSE requests. Operations are small integers below
// len(names); Record is safe for concurrent use and costs two atomic adds
// (three for a failure).
type Ops struct {
	names []string
	ops   []opStat

	latency *prometheus.Desc
	errors  *prometheus.Desc
}

type opStat struct {
	buckets [nBuckets]atomic.Uint64
	sumNs   atomic.Uint64
	errnos  atomic.Pointer[[maxErrno]atomic.Uint64] // allocated at the first failure
}

// NewOps returns the operations names[i] (op i) of a family whose
// metrics are prefix_duration_seconds (a histogram labelled op) and
// prefix_errors_total (labelled op and errno). what says in the help text
// what one operation is.
func NewOps(prefix, what string, names []string) *Ops {
	return &Ops{
		names: names,
		ops:   make([]opStat, len(names)),
		latency: prometheus.NewDesc(prefix+"_duration_seconds",
			"Time to serve one "+what+", by operation; _count is the number served.", []string{"op"}, nil),
		errors: prometheus.NewDesc(prefix+"_errors_total",
			"Failed "+what+"s, by operation and errno.", []string{"op", "errno"}, nil),
	}
}

// Record counts one run of op that took d and failed with errno (0: it
// succeeded). An op out of range is ignored.
func (o *Ops) Record(op int, d time.Duration, errno syscall.Errno) {
	if uint(op) >= uint(len(o.ops)) {
		return
	}
	s := &o.ops[op]
	s.buckets[bucketOf(d)].Add(1)
	if d > 0 {
		s.sumNs.Add(uint64(d))
	}
	if errno != 0 {
		s.fail(errno)
	}
}

// Tick is a reading of the monotonic clock (Now).
type Tick time.Duration

// clockBase is what Ticks count from. time.Since of a time with a
// monotonic reading reads one clock, where time.Now reads two (the wall
// clock too): the cheapest clock read Go offers.
var clockBase = time.Now()

// Now reads the monotonic clock.
func Now() Tick { return Tick(time.Since(clockBase)) }

// Since records op, started at start.
func (o *Ops) Since(op int, start Tick, errno syscall.Errno) {
	o.Record(op, time.Duration(Now()-start), errno)
}

func (s *opStat) fail(errno syscall.Errno) {
	errs := s.errnos.Load()
	if errs == nil {
		s.errnos.CompareAndSwap(nil, new([maxErrno]atomic.Uint64))
		errs = s.errnos.Load()
	}
	if uint(errno) >= maxErrno {
		errno = 0
	}
	errs[errno].Add(1)
}

// bucketOf returns the bucket of d: the least k with d <= 2^k µs.
func bucketOf(d time.Duration) int {
	if d <= time.Microsecond {
		return 0
	}
	k := bits.Len64(uint64(d-1) / uint64(time.Microsecond))
	return min(k, latencyBuckets)
}

// bucketBound returns the upper bound of bucket k in seconds.
func bucketBound(k int) float64 {
	if k >= latencyBuckets {
		return math.Inf(1)
	}
	return float64(uint64(1)<<k) * 1e-6
}

// Count returns how many times op ran.
func (o *Ops) Count(op int) uint64 {
	var n uint64
	for i := range o.ops[op].buckets {
		n += o.ops[op].buckets[i].Load()
	}
	return n
}

// Describe implements prometheus.Collector.
func (o *Ops) Describe(ch chan<- *prometheus.Desc) {
	ch <- o.latency
	ch <- o.errors
}

// Collect implements prometheus.Collector: one histogram per operation
// that ran, one counter per (operation, errno) that failed.
func (o *Ops) Collect(ch chan<- prometheus.Metric) {
	for i := range o.ops {
		s := &o.ops[i]
		var count uint64
		cum := make(map[float64]uint64, latencyBuckets)
		for k := range s.buckets {
			count += s.buckets[k].Load()
			if k < latencyBuckets {
				cum[bucketBound(k)] = count
			}
		}
		if count == 0 {
			continue
		}
		sum := float64(s.sumNs.Load()) / 1e9
		ch <- prometheus.MustNewConstHistogram(o.latency, count, sum, cum, o.names[i])
		errs := s.errnos.Load()
		if errs == nil {
			continue
		}
		for e := range errs {
			if n := errs[e].Load(); n > 0 {
				ch <- prometheus.MustNewConstMetric(o.errors, prometheus.CounterValue, float64(n), o.names[i], errnoName(syscall.Errno(e)))
			}
		}
	}
}

// errnoName is the symbolic name of e ("ENOENT"), "other" for 0.
func errnoName(e syscall.Errno) string {
	if e == 0 {
		return "other"
	}
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "errno" + strconv.Itoa(int(e))
}
