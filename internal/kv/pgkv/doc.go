// Package pgkv is a kv.Store on PostgreSQL (and on engines that speak its
// protocol and its SQL), through pgx and a connection pool.
//
// The store is one table, ferry_kv (k bytea PRIMARY KEY, v bytea NOT NULL),
// in the schema the connection's search_path names first: one database, or
// one schema of it (postgres://user@host/db?search_path=vol2), holds one
// store. bytea compares as unsigned bytes, shorter first on a common
// prefix, which is kv's order; no collation is involved.
//
// Round trips are what a metadata operation costs here, so a transaction
// saves them where it can:
//
//   - BEGIN travels with the transaction's first statement, in one batch;
//     a transaction that only writes sends everything at commit.
//   - Set and Delete are buffered and sent at commit as at most one
//     INSERT ... ON CONFLICT over unnest() and one DELETE ... = ANY(),
//     in the same batch as COMMIT.
//   - Reads of a key the transaction wrote, or read before, are answered
//     from the transaction's own buffer: under SERIALIZABLE and REPEATABLE
//     READ a transaction's snapshot does not move, so a second read would
//     return the same row.
//   - A Scan first sends the buffered writes (in the batch of its first
//     page), so the server merges them; it reads in pages (LIMIT) so that a
//     scan stopped early does not fetch a whole range, and so that its
//     callback may read the transaction while it runs.
//   - Prefetch reads the keys a transaction announces in one statement
//     (meta announces a parent and a name before it reads them), so a
//     create is two round trips: the reads, then the writes with COMMIT.
//   - A View sends no COMMIT: its connection is parked with the snapshot
//     open and the next transaction on it sends ROLLBACK first in its own
//     batch (park.go); a janitor ends Views parked for over a second.
//   - While the store holds its lock, Store.Get answers a key this process
//     committed or read last from memory (cache.go): no other process
//     writes the table then. Transactions always ask the server.
//   - Statements are prepared once per connection (pgx's statement cache).
//
// Update runs SERIALIZABLE and is retried with jittered exponential
// backoff on serialization failures and deadlocks (SQLSTATE 40001, 40P01),
// which distributed engines report where PostgreSQL would block. View runs
// REPEATABLE READ, READ ONLY: a snapshot.
//
// Durability: commits are asynchronous (synchronous_commit = off) and Sync
// commits a transactional WAL record synchronously, which flushes the WAL
// up to it and so every commit before it: one flush per Sync, as kv's
// contract asks, instead of one per commit; a caller that syncs after
// every commit gets commits that flush the WAL themselves and Syncs that
// cost nothing (durable.go). A synchronous_commit given in
// the URL is kept as given. On an engine without pg_logical_emit_message
// commits stay synchronous and Sync has nothing to do.
//
// Lock (lock.go) holds a session advisory lock on a connection of its own,
// so that one process at a time serves the store; PostgreSQL drops it when
// the holder's connection ends, crash included. The janitor pings that
// connection every second and turns the cache off when it is gone.
//
// Errors name the server (host:port/database) and, for the failures people
// meet first, carry a stable kind: ErrUnreachable, ErrAuth, ErrNoDatabase.
package pgkv
