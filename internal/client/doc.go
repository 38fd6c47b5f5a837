// Package client is the client side of a session with `ferry serve`: it
// implements the metadata service the FUSE adapter calls (fusefs.Meta),
// the layout service of the data path (chunk.Layout) and an object store
// (blob.Store) over one rpc session, so that `ferry mount ferry://...`
// runs the same fusefs and chunk code as an embedded mount.
//
// # Leases
//
// The kernel caches entries and attributes for an hour, as on an
// embedded mount; what keeps those caches right is the service's recall.
// The client counts the kernel's references to each inode (fusefs tells
// it of every node id it hands out and every FORGET) and tells the
// service when the kernel let go of one (OpForget, batched), so that the
// service's lease table holds what the kernel holds. It also remembers
// the names under which it handed out each inode, so that it can
// withdraw them all at once when its leases are lost.
//
// A recall names changed inodes and, for directories, changed names. The
// client queues the kernel invalidations (attributes, pages and objects
// for data changes, entries for names), waits until the kernel applied
// them, and acknowledges. One exception: while one of this client's own
// namespace changes in a directory is in flight, the kernel holds that
// directory's lock, and an entry invalidation in it waits for the lock;
// the acknowledgement then goes out without waiting for those entries
// (waiting would deadlock with the other client's change, which waits
// for this acknowledgement). They land as soon as the client's own
// change returns.
//
// Negative entries are not tracked: the kernel caches a missing name for
// the lease period only, and recalls drop it sooner.
//
// The client also answers three questions itself while its lease covers
// the answer (cache.go): that an inode has no extended attribute of a
// name; a directory's attributes as the service sent them after this
// client's own change in it; and, for a directory this client made, that
// a name is not in it (it keeps the directory's names through its own
// changes). Recalls, seen on the connection's reader before any later
// reply, drop them; so does a change the service saw another session
// make before this one held the lease (it pushes this session a recall).
//
// # Delegated creates
//
// In a directory it made, and holds alone, the client asks for the
// directory's delegation and a range of inode numbers, then answers
// creates there itself and sends them on without waiting (deleg.go). Its
// other calls wait until those are answered (Client.call settles first),
// so nothing it asks overtakes them; so does its acknowledgement of the
// recall that takes the delegation back before another client looks at
// the directory. The release of such a file waits for its create's answer
// and is not waited for either. A create the service refuses is reported
// through fusefs.Settler at the file's next fsync or close.
//
// # Losing the session
//
// The client renews its session with every call and with heartbeats. If
// no call was answered for most of the lease period, the service may have
// expired the session and let others change what this kernel caches, so
// the client withdraws everything the kernel holds from it (attributes,
// pages, entries). It does the same when a reconnect finds the session
// gone (the service restarted).
//
// # File locks
//
// flock and fcntl locks are the service's (locks.go): a blocked lock asks
// again at each OpLocksChanged push and every few seconds, and the client
// remembers which lock owners may hold locks, so that a close by any
// other costs no round trip.
//
// # Locks
//
// Client.mu guards the lease bookkeeping and the in-flight directory
// counts. It is never held across a call to the service or to the kernel.
// lockState.mu guards the lock bookkeeping; it is taken under no other
// lock.
package client
