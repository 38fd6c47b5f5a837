// Package metrics counts what a Ferry process does and shows it: per
// operation counts and latency histograms (FUSE requests on a mount, wire
// calls on a service), leases, kernel cache invalidations, answers a
// client gave without a round trip, object store bytes, block cache hits
// and misses, sessions and errors by errno. Every process has its own
// Registry (no global one), exposed in the Prometheus text format over
// HTTP (--metrics), over a mount's control socket, and over the wire
// protocol to `ferry stats ferry://...`; Render shows two snapshots as
// the live table of `ferry stats`.
//
// # Cost on the hot path
//
// Recording one operation costs two reads of the monotonic clock (Now)
// and two atomic adds (a latency bucket and the latency sum; the count is
// the sum of the buckets); a failure adds one more. There is no lock, no map lookup and
// no allocation per operation: each operation family is a fixed array
// indexed by operation, and the Prometheus metrics are built from it only
// when somebody scrapes (BenchmarkRecord). The other counters live in the
// packages that own the events (lease, chunk, client, fusefs,
// blob/metered) as plain atomics or fields under locks those packages
// already hold, and are read here through functions at scrape time.
//
// # Decorators
//
// The package wraps rather than edits: FUSE wraps a go-fuse
// RawFileSystem, Acceptor wraps the service's rpc.Acceptor (and answers
// `ferry stats` connections itself, without opening a session).
package metrics
