// Package service is `ferry serve`: the metadata service and the objects
// of one volume, offered to any number of client sessions over package
// rpc, with leases that let each client's kernel cache what it was
// handed for as long as nothing changes it.
//
// # Leases and recalls
//
// Every reply that hands a client an inode (lookup, create, getattr, a
// readdirplus entry, ...) grants its session a lease on that inode; the
// lease covers the inode's attributes and data and, for a directory, its
// entries and listing. The client drops leases as its kernel forgets
// inodes (OpForget). The metadata service reports what each committed
// transaction changed (meta.Options.OnCommit); the call that made the
// change then recalls the leases of every other session on those inodes
// (a Push naming the inodes and, for directories, the names), and
// replies only when each holder acknowledged, or missed the recall
// timeout and was expired. A recall does not end a lease: it is a
// callback, and the holder keeps its lease.
//
// A session lives while its client renews it (every call does; an idle
// client sends heartbeats) and survives its connection: a client that
// reconnects within the lease period resumes it, its leases and the
// recalls waiting for it (they are pushed again). A session not renewed
// for the lease period expires: its leases go, and the files it had open
// are released, so that files only it held open after their unlink are
// reclaimed.
//
// # Delegations
//
// A session that made a directory and is the only one holding it may get
// the directory's delegation (lease.Table.Delegate) and a range of inode
// numbers, and then sends creates it already answered (OpCreateAs,
// deleg.go). Every call of another session that names the directory, or
// would be handed it, first recalls the delegation and waits for it: the
// holder acknowledges once the service answered every create it sent. A
// session that held delegations is marked in its record; after a restart,
// reads wait with changes until such sessions reclaimed (deleg.go,
// grace.go).
//
// # Exactly once
//
// A client sends a call again after a reconnect when it had no reply. The
// service keeps the replies of the mutating calls of each session for a
// while (replies.go) and answers a repeated call id from there, or waits
// for the first run to finish, so a resent mutation runs once.
//
// # File locks
//
// flock and fcntl locks are records of the metadata store (meta.SetLock),
// changed by OpSetLk as any other change: durable before the reply,
// once per call id, kept across a restart, dropped when their session
// ends. A blocked lock waits on the client, which asks again when the
// service pushes OpLocksChanged for the inode (locks.go).
//
// # Exports and hostile clients
//
// The service trusts nothing a client sends (guard.go): every request is
// checked and mapped before it runs (a read-only export, a subdirectory
// as the clients' root, squashed and mapped identities: export.go,
// identity.go), and the data path goes only where the session's opens
// and allocations let it (rights.go).
//
// # Locks
//
// Service.mu guards the lease table, the session map and the recall
// waiters; it is never held across a call into meta or blob, nor across
// a push. session.mu guards a session's connection, opens and reply
// cache; it is taken alone or under nothing. lockWaiters.mu guards the
// sessions waiting for lock changes; it is taken under no other lock.
// sessGuard.mu is a leaf. batchMu serializes OpCreateBatch; it is taken
// under no other lock and held only across the call into meta.
package service
