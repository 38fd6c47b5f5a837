// Package faulty is a fault-injecting blob.Store decorator for tests. It
// counts operations and, on request:
//
//   - crashes at the N-th write: Put and Delete calls are numbered from 1;
//     the N-th and every later one fails without reaching the inner store,
//     and so does every later Sync, as if the process had died just before
//     the N-th write (CrashAt);
//   - fails every Put with a chosen error, such as syscall.ENOSPC, while
//     Deletes still work, as on a full disk (FailPuts);
//   - flips one bit in the bytes Get returns for chosen keys (Corrupt).
//
// Reads and Lists always reach the inner store. Store always has a Sync
// method: it forwards to the inner store's Syncer when there is one and
// otherwise does nothing, like blob.Sync, except that after a crash it
// fails.
//
// Locking: one mutex guards the fault settings and counters; it is never
// held while the inner store is called.
package faulty
