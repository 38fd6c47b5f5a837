package metrics

import (
	"github.com/ferryfs/ferry/internal/blob/metered"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/client"
	"github.com/ferryfs/ferry/internal/fusefs"
	"github.com/ferryfs/ferry/internal/lease"
	"github.com/ferryfs/ferry/internal/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// The counters other packages keep are read from these, at each scrape.
// Each is declared here, where it is used, with the type that has it.
type (
	// LeaseSource is *service.Service.
	LeaseSource interface {
		LeaseStats() (lease.Stats, lease.Counts)
	}
	// CacheSource is *chunk.Store.
	CacheSource interface{ CacheStats() chunk.CacheStats }
	// KernelSource is *fusefs.Server.
	KernelSource interface{ Invalidations() fusefs.Invalidations }
	// ClientSource is *client.Client.
	ClientSource interface {
		LocalAnswers() client.LocalAnswers
		Calls(op wire.Op) uint64
	}
)

// Objects registers the counts of an object store decorated by
// blob/metered: ferry_object_{read,written}_bytes_total,
// ferry_object_calls_total{op}, ferry_object_errors_total.
func (r *Registry) Objects(s *metered.Store) {
	r.Counter("ferry_object_read_bytes_total", "Bytes read from the object store.", func() uint64 { return s.Counts().BytesRead })
	r.Counter("ferry_object_written_bytes_total", "Bytes written to the object store.", func() uint64 { return s.Counts().BytesWritten })
	for _, c := range []struct {
		op string
		n  func(metered.Counts) uint64
	}{
		{"put", func(c metered.Counts) uint64 { return c.Puts }},
		{"get", func(c metered.Counts) uint64 { return c.Gets }},
		{"delete", func(c metered.Counts) uint64 { return c.Deletes }},
		{"list", func(c metered.Counts) uint64 { return c.Lists }},
		{"sync", func(c metered.Counts) uint64 { return c.Syncs }},
	} {
		r.Counter("ferry_object_calls_total", "Calls to the object store, by operation.", func() uint64 { return c.n(s.Counts()) }, "op", c.op)
	}
	r.Counter("ferry_object_errors_total", "Calls to the object store that failed.", func() uint64 { return s.Counts().Failures })
}

// Leases registers a service's sessions and leases: ferry_sessions,
// ferry_leases, ferry_recalls_pending (gauges) and the counters
// ferry_sessions_opened_total, ferry_session_expiries_total{why},
// ferry_lease_grants_total, ferry_lease_recalls_total and
// ferry_lease_recall_messages_total.
func (r *Registry) Leases(src LeaseSource) {
	stats := func() lease.Stats { s, _ := src.LeaseStats(); return s }
	counts := func() lease.Counts { _, c := src.LeaseStats(); return c }
	r.Gauge("ferry_sessions", "Live client sessions.", func() float64 { return float64(stats().Sessions) })
	r.Gauge("ferry_leases", "Leases held: (session, inode) pairs.", func() float64 { return float64(stats().Leases) })
	r.Gauge("ferry_recalls_pending", "Recalls waiting for an acknowledgement.", func() float64 { return float64(stats().PendingRecalls) })
	r.Counter("ferry_sessions_opened_total", "Sessions opened (resumed ones are not counted).", func() uint64 { return counts().Opened })
	r.Counter("ferry_session_expiries_total", "Sessions expired, by why: lapsed (not renewed for the lease period) or recall (missed a recall's deadline).",
		func() uint64 { c := counts(); return c.Expired - c.MissedRecalls }, "why", "lapsed")
	r.Counter("ferry_session_expiries_total", "Sessions expired, by why: lapsed (not renewed for the lease period) or recall (missed a recall's deadline).",
		func() uint64 { return counts().MissedRecalls }, "why", "recall")
	r.Counter("ferry_lease_grants_total", "Leases granted.", func() uint64 { return counts().Granted })
	r.Counter("ferry_lease_recalls_total", "Changes that recalled other sessions' leases.", func() uint64 { return counts().Recalls })
	r.Counter("ferry_lease_recall_messages_total", "Recall messages sent: one per (change, holding session).", func() uint64 { return counts().RecallTargets })
}

// BlockCache registers a data path's block cache:
// ferry_block_cache_{hits,shared,misses}_total and ferry_block_cache_bytes.
func (r *Registry) BlockCache(src CacheSource) {
	r.Counter("ferry_block_cache_hits_total", "Object reads the block cache answered.", func() uint64 { return src.CacheStats().Hits })
	r.Counter("ferry_block_cache_shared_total", "Object reads that joined a fetch already under way.", func() uint64 { return src.CacheStats().Shared })
	r.Counter("ferry_block_cache_misses_total", "Object reads that fetched from the object store.", func() uint64 { return src.CacheStats().Misses })
	r.Gauge("ferry_block_cache_bytes", "Memory the block cache holds.", func() float64 { return float64(src.CacheStats().Bytes) })
}

// Kernel registers a mount's kernel cache invalidations:
// ferry_kernel_invalidations_total{kind}, and of those
// ferry_kernel_invalidations_unknown_total (the kernel held nothing).
func (r *Registry) Kernel(src KernelSource) {
	const help = "Kernel cache invalidations written to /dev/fuse, by kind: inode (attributes and data), entry (a name), delete (a name gone)."
	r.Counter("ferry_kernel_invalidations_total", help, func() uint64 { return src.Invalidations().Inodes }, "kind", "inode")
	r.Counter("ferry_kernel_invalidations_total", help, func() uint64 { return src.Invalidations().Entries }, "kind", "entry")
	r.Counter("ferry_kernel_invalidations_total", help, func() uint64 { return src.Invalidations().Deletes }, "kind", "delete")
	r.Counter("ferry_kernel_invalidations_unknown_total", "Invalidations of what the kernel did not hold (ENOENT).", func() uint64 { return src.Invalidations().Unknown })
	r.Counter("ferry_kernel_invalidations_failed_total", "Invalidations the kernel refused (other errors).", func() uint64 { return src.Invalidations().Failed })
}

// Client registers a remote mount's session: the requests answered
// without a round trip, ferry_client_local_answers_total{op}, and the
// round trips, ferry_client_calls_total{op}.
func (r *Registry) Client(src ClientSource) {
	const help = "Requests the client answered without a round trip, under a lease, by operation."
	r.Counter("ferry_client_local_answers_total", help, func() uint64 { return src.LocalAnswers().Lookups }, "op", "lookup")
	r.Counter("ferry_client_local_answers_total", help, func() uint64 { return src.LocalAnswers().GetAttrs }, "op", "getattr")
	r.Counter("ferry_client_local_answers_total", help, func() uint64 { return src.LocalAnswers().GetXattrs }, "op", "getxattr")
	r.Register(clientCalls{src})
}

var clientCallsDesc = prometheus.NewDesc("ferry_client_calls_total",
	"Calls the client made to the service (round trips), by operation.", []string{"op"}, nil)

// clientCalls reports the ops the client called at least once.
type clientCalls struct{ src ClientSource }

func (c clientCalls) Describe(ch chan<- *prometheus.Desc) { ch <- clientCallsDesc }

func (c clientCalls) Collect(ch chan<- prometheus.Metric) {
	for op := range wire.Op(maxWireOp) {
		if n := c.src.Calls(op); n > 0 {
			ch <- prometheus.MustNewConstMetric(clientCallsDesc, prometheus.CounterValue, float64(n), op.String())
		}
	}
}
