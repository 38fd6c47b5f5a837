// Package localblob stores objects as files in a local directory. It is the
// object store of a single-machine volume.
//
// # Layout
//
// The object with key "blocks/0a/000000000000010a" is the file
// dir/blocks/0a/000000000000010a: every key component is a directory or file
// name. Directories are created on demand and never removed, so a key
// cannot name both an object and a "directory" of other objects (putting
// "a" and "a/b" fails with EEXIST or ENOTDIR). Keys must also not have a
// component starting with ".ferrytmp-", which names temporary files.
//
// # Writes and durability
//
// Put writes a temporary file next to its target and renames it into place,
// so a reader sees either no object or the whole object. Put does not fsync:
// the Store implements blob.Syncer, and Sync fsyncs every file put since the
// previous Sync, then every directory that gained an entry (in parallel,
// with a bound). The list of pending names is itself bounded: past
// Options.MaxPending entries it is dropped and the next Sync calls syncfs(2)
// on the whole file system instead. After a crash, objects that were Put
// but not Synced may be missing, empty or partial; callers commit
// references to objects only after Sync returns.
//
// A failed fsync is sticky: the kernel may have dropped the pages it could
// not write, and a second fsync would report success for data that is gone,
// so every later Sync fails too and the store must be reopened (and the
// volume checked). Errors that say nothing about data, such as failing to
// open a file, are retried by the next Sync.
//
// Temporary files carry a token unique to the Store that created them. A
// crash can leave some behind; List ignores them and Clean removes those of
// other (dead) Stores. A directory must be used by one Store at a time.
//
// # Errors
//
// Every error is a *blob.OpError naming the operation and key and wrapping
// the cause, so errors.Is(err, syscall.ENOSPC), EROFS or EACCES work.
//
// # Locking
//
// Lock order: syncMu (held for a whole Sync, so that a Sync returns only
// when everything Put before it started is durable) before mu (guards the
// pending list and the sticky error; held briefly). Put, Get, Delete and
// List take mu only to record pending names.
package localblob
