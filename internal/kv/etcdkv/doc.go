// Package etcdkv is a kv.Store on an etcd v3 cluster
// (go.etcd.io/etcd/client/v3), for metadata that must outlive one machine.
// A store is named by a URL,
//
//	etcd://HOST:PORT[,HOST:PORT...]/PREFIX[?PARAMS]
//
// listing any members of the cluster (the client fails over among them)
// and a key prefix, so that several volumes share one cluster: every key
// of the store lives under PREFIX + "/:", data under "/:d" and the store's
// own bookkeeping (the delete epoch, commit markers) under "/:m". Prefix
// segments cannot hold ':', so no volume's keys fall inside another's.
// PARAMS are dial-timeout, request-timeout, max-txn-ops and
// max-request-bytes (see ParseURL).
//
// # Transactions
//
// etcd has multi-version reads and a compare-and-swap transaction, not
// interactive transactions, so Update is optimistic:
//
//   - fn reads at one revision: the first read is linearizable and fixes
//     it, later ones ask for that revision and may be answered by any
//     member (a member that has not yet applied it refuses, and the read
//     is made again through the leader). Reads see the transaction's own
//     writes, which it keeps in an ordered map until the commit; scans
//     merge the two in key order, fetching pages of up to 128 keys (fewer
//     when values are large: about 4 MiB a page).
//   - The transaction records what it read: the mod revision of every key
//     it got (0 for a missing key), the range every scan covered (up to
//     the last key shown to fn when fn stopped it early, else the whole
//     range) and the mod revision of every key the scans passed.
//   - Its writes commit in one etcd Txn whose comparisons hold only if
//     none of that changed: each key got has the mod revision it had
//     (a missing key is still missing, a deleted one is not back); no key
//     in a covered range has a mod revision above the read revision
//     (nothing created or changed in it: no phantoms); and no key a scan
//     passed was deleted. Deletions leave nothing in a range to compare,
//     so each passed key is compared by itself, up to 64 of them; past
//     that, one key, the delete epoch, stands for them all: every commit
//     that deletes anything also writes it, and the comparison asks that
//     no such commit came after the read revision. That is a coarser
//     test (any concurrent delete conflicts with a long scan), never a
//     weaker one.
//   - A transaction one of whose reads failed never commits, even if fn
//     ignores the error and returns nil: it returns that error.
//   - A failed comparison applies nothing; fn runs again after a jittered
//     exponential backoff (1 ms doubling to 100 ms), up to MaxRetries
//     times (100), then Update returns kv.ErrConflict. A transaction that
//     wrote nothing needs no commit: all its reads came from one
//     revision. Every committed transaction is thus equivalent to running
//     alone at its commit revision, in revision order: serializable.
//
// A commit is one etcd request, so it applies whole or not at all; a
// transaction over the cluster's limits (--max-txn-ops, --max-request-bytes;
// etcd's defaults are 128 operations and 1.5 MiB, and the store assumes them
// unless the URL says otherwise) is refused with ErrTooLarge before it is
// sent, and if the cluster's limits are lower than the URL claims, the
// cluster refuses it, with the same error. It is never split.
//
// # Durability and Sync
//
// etcd acknowledges a commit only after a quorum of members has appended
// it to its write-ahead log and synced it to disk, so an Update that
// returned nil survives the loss of any minority of members, their
// machines included. Sync has nothing left to do: it returns at once.
//
// # Failures
//
// Every request is bounded by the request timeout (10 s by default), Open's
// first exchange by the dial timeout (5 s); a cluster that does not answer
// in time gives ErrUnreachable, a one-line error naming the store's URL.
// The client spreads requests over the listed members and stops using one
// whose connection breaks, so while a quorum lives, losing a member fails
// no operation: the client sends reads that were in flight to it again,
// and a commit that was in flight, which may or may not have been applied,
// is settled through the marker key every commit creates (outcome.go): an
// applied commit is reported done, one that was not is fenced off for good
// and its Update runs again. Only when the cluster cannot be asked within
// another request timeout does the Update fail with ErrOutcomeUnknown. A
// commit the cluster refused without applying it (no leader during an
// election) runs again like a conflict.
//
// The cluster keeps every revision until it is compacted; run it with
// --auto-compaction-retention (e.g. 1h) so history does not grow without
// bound. An Update whose read revision is compacted while it runs starts
// again at a newer one; a View fails with ErrCompacted.
//
// The store speaks plain gRPC to the members: no TLS and no etcd
// authentication yet, so the cluster must be reachable only by the
// machines that serve volumes.
//
// # Lock order
//
// The gate (every operation holds it shared; Close closes it and waits
// for running operations, then closes the client), then markers.mu (held
// only to hand out or take marker keys). No lock of this package is held
// across a request. Close must not be called from inside View or Update.
package etcdkv
