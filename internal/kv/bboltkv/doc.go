// Package bboltkv is a kv.Store on go.etcd.io/bbolt, kept as the measured
// alternative to the embedded default (pebblekv; the figures and the choice
// are in that package's documentation).
//
// All keys live in one bucket. bbolt has real transactions: one writer at a
// time and any number of MVCC readers, so Update maps to a bbolt read-write
// transaction and View to a read-only one. Commits run with NoSync and Sync
// calls fdatasync. Unlike Pebble's log, bbolt with NoSync gives no ordering
// between a commit's page writes and its meta page write, so a crash
// between two Syncs can leave a meta page pointing at pages that never
// reached the disk: this backend is for comparison and tests, not for
// volumes.
//
// Lock order: the store's writer semaphore (ctx-aware) before bbolt's own
// writer lock. A long View can block an Update that must grow the memory
// map; the initial map is sized large to make that rare.
package bboltkv
