// Package lease is the lease table of the metadata service: which client
// sessions are alive, which inodes each of them holds a lease on, and which
// recalls are waiting for acknowledgements. It is a pure state machine: it
// does no I/O, starts no goroutines and reads no clock; every operation
// that depends on time takes "now" as an argument, and Next tells the
// caller when to call Tick again.
//
// # Model
//
// A session stays alive while it renews: Open and Renew push its expiry to
// now+Config.Period. A session not renewed by then is expired by the first
// Tick at or after that instant, and expiry drops everything it held.
//
// A session holds a lease on an inode from Grant (the service handed it the
// inode) until Drop (its kernel forgot the inode), Close or expiry. A lease
// covers the inode's attributes and data and, for a directory, all its
// entries, positive and negative, and its listing.
//
// A mutation calls Recall with the inodes it changed and the session that
// made it. The recall targets every other session holding a lease on any of
// them and waits for each target to Ack before now+Config.RecallTimeout. A
// target that misses that deadline is expired by Tick; a target that is
// closed or expires for any other reason stops counting as well. A recall
// does not drop leases: it tells the holders to invalidate what they
// cached, and they keep their leases afterwards.
//
// A session may also hold the delegation of a directory (deleg.go): the
// directory to itself, so that it answers creates in it before telling
// the service. Delegate gives it only to the sole holder of a lease on the
// directory; RecallDelegation, called before another session looks at the
// directory, is a recall with the holder as its only target, and the
// delegation ends when it completes, when the holder drops its lease on
// the directory, or with the holder's session.
//
// # Reporting
//
// Each completed recall is reported exactly once, by the call that
// completed it: Recall (no targets), Ack or Tick. Close returns nothing, so
// the recalls it completes are reported by the next Tick, and Next returns
// a time no later than the last "now" the table was given so that the
// caller's timer fires at once. Done answers at any time. The table forgets
// a recall once it has been reported; recall ids only grow, so an id below
// the next one that is not pending is done.
//
// # Concurrency
//
// A Table is not safe for concurrent use and takes no locks: its owner
// serializes every call, typically on one goroutine that also owns the
// timer armed at Next.
//
// # Cost
//
// Grant, Drop and Holds cost O(holders of the inode); Close and expiry cost
// O(leases of the session); Recall costs O(holders of the recalled inodes);
// Renew and each deadline Tick acts on cost O(log sessions + log recalls)
// through one heap of deadlines, so neither Tick nor Next scans the
// sessions. A lease costs well under a hundred bytes (see
// TestMemoryPerLease).
package lease
