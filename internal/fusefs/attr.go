package fusefs

import (
	"context"
	"math"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// splitNs converts Unix nanoseconds into the seconds and nanoseconds of a
// FUSE timestamp. Seconds are a two's complement int64 on the wire, so
// times before 1970 round down and keep a non-negative nanosecond part.
func splitNs(ns int64) (sec uint64, nsec uint32) {
	s, r := ns/1e9, ns%1e9
	if r < 0 {
		s--
		r += 1e9
	}
	return uint64(s), uint32(r)
}

// joinNs converts a FUSE timestamp into Unix nanoseconds, clamped to the
// range an int64 of nanoseconds holds (years 1677 to 2262), as file
// systems clamp times to what they can store.
func joinNs(sec uint64, nsec uint32) int64 {
	const nsPerSec = int64(1e9)
	const maxSec = math.MaxInt64 / nsPerSec
	const minSec = math.MinInt64 / nsPerSec
	s := int64(sec)
	n := int64(min(nsec, 1e9-1))
	switch {
	case s > maxSec || s == maxSec && n > math.MaxInt64-maxSec*nsPerSec:
		return math.MaxInt64
	case s < minSec:
		return minSec * nsPerSec
	}
	return s*nsPerSec + n
}

// toFuseAttr fills out from a.
func toFuseAttr(out *fuse.Attr, a meta.Attr) {
	*out = fuse.Attr{
		Ino:   a.Ino,
		Size:  a.Size,
		Mode:  a.Mode,
		Nlink: a.Nlink,
		Owner: fuse.Owner{Uid: a.UID, Gid: a.GID},
		Rdev:  a.Rdev,
	}
	// Blksize stays 0: the kernel then reports its page size, which is
	// also the block size it tracks dirty ranges with.
	if a.Mode&syscall.S_IFMT == syscall.S_IFREG {
		out.Blocks = a.Blocks()
	}
	out.Atime, out.Atimensec = splitNs(a.Atime)
	out.Mtime, out.Mtimensec = splitNs(a.Mtime)
	out.Ctime, out.Ctimensec = splitNs(a.Ctime)
}

// overlay lays the buffered, not yet committed writes of a regular file
// over its committed attributes: the size and mtime it will have. A commit
// never shrinks a file (truncation goes to meta, after a flush), so the
// size is the larger of the two.
func (f *fileSystem) overlay(a meta.Attr) meta.Attr {
	if a.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return a
	}
	if size, mtime, ok := f.data.Reported(a.Ino); ok {
		// The data path's values are never older than what it committed;
		// a change made since (truncate, utimes) is newer, and invalidates
		// what the data path reports where it could be older.
		a.Size = max(a.Size, size)
		a.Mtime = max(a.Mtime, mtime)
		a.Ctime = max(a.Ctime, mtime)
	}
	return a
}

// fillEntry answers a lookup-like request with a (dirty writes laid over
// it) and the configured timeouts. Every reply that hands the kernel a
// node id goes through here, so here it is counted (see looked).
func (f *fileSystem) fillEntry(out *fuse.EntryOut, a meta.Attr) {
	f.looked(context.Background(), a)
	out.NodeId = a.Ino
	out.Generation = 0 // inode numbers are never reused
	toFuseAttr(&out.Attr, f.overlay(a))
	setEntryTimeout(out, f.opts.EntryTimeout)
	setAttrTimeout(out, f.opts.AttrTimeout)
}

// fillAttr answers a getattr-like request.
func (f *fileSystem) fillAttr(out *fuse.AttrOut, a meta.Attr) {
	toFuseAttr(&out.Attr, f.overlay(a))
	out.SetTimeout(max(f.opts.AttrTimeout, 0))
}

// fillNegative answers a lookup of a missing name so that the kernel
// caches its absence: node id 0 with the negative timeout.
func (f *fileSystem) fillNegative(out *fuse.EntryOut) {
	*out = fuse.EntryOut{}
	setEntryTimeout(out, f.opts.NegativeTimeout)
}

func setEntryTimeout(out *fuse.EntryOut, d time.Duration) { out.SetEntryTimeout(max(d, 0)) }
func setAttrTimeout(out *fuse.EntryOut, d time.Duration)  { out.SetAttrTimeout(max(d, 0)) }
