// Package locks is the arithmetic of file locks, the one reference for
// the service (which stores and checks them) and the client (which asks):
// POSIX byte-range locks (fcntl F_SETLK, F_SETLKW, F_GETLK) held per lock
// owner, and flock(2) whole-file locks held per open file description,
// the two kinds independent of each other as on Linux.
//
// A Set is the locks of one inode. It is a value: Set.Apply returns the
// set after a change, or the lock that stands in its way, and changes
// nothing itself; the caller stores the result. Owners are scoped by the
// client session (Owner.Session), since the ids a kernel gives lock owners
// are unique within that kernel only.
//
// Ranges are inclusive: [Start, End], End = math.MaxUint64 or the
// kernel's OFFSET_MAX (math.MaxInt64) for "to the end of the file, and
// beyond". Locks of one owner and one kind never overlap in a Set; a
// POSIX change splits, trims and merges the owner's ranges exactly as
// Linux does for local files.
//
// Flock conversions (LOCK_SH to LOCK_EX and back) drop the old lock
// before they check for conflicts, as Linux does: a conversion that
// fails leaves the owner without a lock (Apply reports that as a change).
// POSIX changes are atomic: one that conflicts changes nothing.
package locks
