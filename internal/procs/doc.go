// Package procs governs the Go scheduler's processor count (GOMAXPROCS)
// of a process that exists to serve requests, `ferry mount` and `ferry
// serve`: one processor while only short metadata requests arrive, all of
// them while file data moves. procs.go says why and what it measured.
//
// Governor.mu serializes changes of the count; it is a leaf lock.
package procs
