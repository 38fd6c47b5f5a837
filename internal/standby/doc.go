// Package standby lets several `ferry serve` processes share one volume
// on a distributed metadata engine: one is active and serves clients, the
// others stand by and take over when it is gone.
//
// The active service holds a lease written in the engine itself (the
// meta.Active record): a holder id, a term and a heartbeat. The holder
// renews it every Period/4 by raising the heartbeat in a transaction. A
// standby reads the record every Period/8; when the heartbeat has stood
// still for Period plus a margin, as its own monotonic clock measures, it
// takes over in a transaction that raises the term, but only if the record
// is still the one it watched. No two clocks are compared, only their
// rates.
//
// The holder gives up by itself before a standby can take over: when no
// renewal has succeeded for Period minus the margin since the renewal was
// sent, it reports the lease lost and `ferry serve` stops. Every update
// the holder makes to the volume goes through Fence, which checks the
// record in the same serializable transaction, so a holder that was
// paused past its lease cannot write after the takeover: its transaction
// conflicts with the takeover or sees the new term and fails with
// ErrFenced.
//
// A holder that stops cleanly releases the lease (the record keeps its
// term and loses its holder), and a standby takes over at its next look.
// Clients given every service's address reconnect to the new holder and
// resume their sessions as after a restart (package service).
//
// The state machine deciding when a standby may take over (Watch) is pure
// and fed the time; Acquire and the renewal loop run it on the monotonic
// clock, which the tests replace with testing/synctest's.
package standby
