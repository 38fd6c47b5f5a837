// Package pebblekv is the embedded default kv.Store, on Pebble
// (github.com/cockroachdb/pebble/v2). It owns one Pebble directory, which one
// process at a time opens (the volume's lock file sees to that; Pebble's own
// LOCK file refuses a second opener too).
//
// # Transactions
//
// Pebble has batches, snapshots and iterators but no conflict-checked
// transactions, so this package adds the thinnest layer that is still
// serializable:
//
//   - Update runs one at a time under a writer semaphore (wlock; waiting for
//     it honours ctx). Its reads go through an indexed batch, which merges
//     the transaction's own Sets and Deletes over the database, in order,
//     for Get and Scan alike. Nothing else commits between those reads and
//     the batch's commit, so every Update is serializable, fn runs exactly
//     once and kv.ErrConflict never occurs. The batch commits with
//     pebble.NoSync: visible at once, durable at the next Sync.
//   - Sync writes an empty LogData record to the write-ahead log with Sync
//     set. The log is append-only and Pebble syncs a log file before it
//     retires it, so this makes every earlier commit durable. A Sync with no
//     commit since the previous one returns without touching the disk.
//   - View reads through one Pebble iterator made when View starts. An
//     iterator reads at the sequence number visible when it was made and
//     pins that moment's memtables and tables; the clones used for a Get
//     inside a Scan callback, or for a nested Scan, share both. So all of a
//     View's reads see one committed state, and a commit made during the
//     View is invisible to it (kvtest's ViewSnapshot and TransfersConsistent
//     check this). It costs less than a pebble.Snapshot, whose Close takes
//     the DB mutex and reruns the compaction picker.
//
// # Lock order
//
// gate (every operation holds it shared; Close closes it and waits for it
// to drain, because Pebble panics when used after Close), then wlock
// (Update only), then Pebble's internal locks. Close must not be called
// from inside View or Update.
//
// # Memory
//
// A `ferry mount` process must stay under 256 MiB resident. The defaults
// give Pebble a 32 MiB block cache and 16 MiB memtables, at most two of them
// (MemTableStopWritesThreshold 2): Pebble accounts 64 MiB in all, a quarter
// of the budget, leaving the rest to the data path's buffers and caches.
// 16 MiB memtables hold about 40,000 create transactions between flushes and
// keep log replay at open short; a 32 MiB cache holds the index and filter
// blocks of a few million entries plus the hot data blocks. Pebble charges
// live memtables to the block cache, so the cache is created with
// CacheBytes + 2*MemTableBytes (sized for blocks alone it held none once
// the memtables were full; TestBlockCacheServesReads guards this). Bloom
// filters (10 bits per key) let point reads of absent names skip tables.
//
// What the process resident size becomes depends on the allocator. After
// 300,000 create-shaped Updates and 300,000 Gets (BenchmarkFootprint, run
// alone; the test process itself is about 21 MiB), Pebble accounted 64 MiB
// and the process held:
//
//	cgo build, glibc defaults              149 MiB
//	cgo build, MALLOC_ARENA_MAX=2          113 MiB
//	cgo build, MALLOC_ARENA_MAX=1           94 MiB
//	CGO_ENABLED=0, GOGC default            169 MiB
//	CGO_ENABLED=0, GOMEMLIMIT=128MiB       135 MiB
//
// so the binary should set MALLOC_ARENA_MAX (cgo builds) or a Go memory
// limit (pure Go builds) to stay well inside the budget.
//
// # Why Pebble
//
// The issue quoted Pebble at about 430k batched durable inserts/s against
// bbolt's 36k, with the caveat that Pebble lacks conflict-checked
// transactions. internal/kv/kvbench_test.go compares the backends on the
// metadata service's own shapes (bboltkv: one bucket, real bbolt
// transactions, NoSync commits, Sync by fdatasync). Command, on the 2-core
// shared development machine (ext4 on a virtual disk, load average 4-6 from
// other work while it ran):
//
//	go test -run xxx -bench . -benchtime 2s -count 3 ./internal/kv/...
//
// Medians of three, wall ns/op (process CPU ns/op in brackets):
//
//	                                     memkv          pebblekv        bboltkv
//	create (2 Get + 3 Set, 100 B)       39,607 (59k)   25,174 (31k)   123,054 (114k)
//	create from 2 goroutines            51,050 (49k)   30,235 (30k)   130,617 (128k)
//	create, Sync every 100              49,831 (51k)   33,163 (31k)   208,879 (170k)
//	View with one Get                    2,477          6,122           3,958
//	View with a 100-key Scan             4,654         21,344           7,382
//
// Pebble commits a create-shaped transaction 4.9 times faster than bbolt,
// 6.3 times faster with periodic Syncs, because a commit appends to a log
// while bbolt rewrites the B+tree pages on the path to every changed key.
// bbolt reads faster (1.5 times for a Get, 2.9 for a 100-key Scan, since
// its tree is memory-mapped), but Ferry's reads are mostly answered from
// the kernel's caches while a lease holds, and 0.2 µs per directory entry
// is small beside a 20 µs FUSE request. bbolt also has no safe middle
// ground: without fsync per commit, a crash between Syncs can leave a meta
// page pointing at tree pages that never reached the disk (nothing orders
// the two writes); with it, every commit costs a disk flush; its file never shrinks, and a
// long read transaction blocks the writer that must grow the memory map.
// Pebble's log replays to a prefix of the commits, never a torn one
// (TestCrashRecoversCommittedPrefix). Pebble is the default; bboltkv stays
// as the measured alternative.
//
// The choices inside this package were measured the same way (pebblekv's
// design_bench_test.go, same command and run):
//
//   - Writer lock. Two goroutines doing create-shaped Updates: 27,354 ns/op
//     under the channel semaphore, 25,506 under a sync.Mutex, 28,156 with no
//     lock at all (not serializable; the ceiling for any finer concurrency
//     control such as optimistic validation). Nothing is left to win on two
//     cores, so the simple serial writer stays.
//   - Sync. One small Update then: LogData(nil, Sync) 109,889 ns (a real
//     fdatasync), Flush of the memtable 1,763,786 ns; committing an empty
//     batch with Sync costs 3,325 ns because Pebble returns before writing
//     an empty batch, so it syncs nothing and is not an option.
//   - View. On a store whose 200,000 keys sit in flushed tables
//     (BenchmarkViewDesignLSM), iterator against snapshot, wall ns/op: one
//     Get 6,680 against 7,968, four Gets 18,989 against 25,474, a 100-key
//     Scan 23,554 against 28,381; per View 4 allocations against 18 for a
//     Get, 5 against 19 for a Scan. With everything still in the memtable
//     the two are within this machine's noise.
package pebblekv
