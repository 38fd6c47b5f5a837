package fusefs

import (
	"sync/atomic"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// Invalidations counts the cache invalidations written to the kernel
// since the mount started, by kind: an inode's attributes and data
// (Inodes), a name in a directory (Entries), a name that went away
// (Deletes). Unknown counts those the kernel answered ENOENT (it held
// nothing to drop); Failed those it refused otherwise. A notice delivered
// again after ENOENT (notify.go) counts each time.
type Invalidations struct {
	Inodes, Entries, Deletes uint64
	Unknown, Failed          uint64
}

type noticeCounts struct {
	inodes, entries, deletes atomic.Uint64
	unknown, failed          atomic.Uint64
}

func (c *noticeCounts) count(kind noticeKind, st fuse.Status) {
	switch kind {
	case noticeInode:
		c.inodes.Add(1)
	case noticeEntry:
		c.entries.Add(1)
	case noticeDelete:
		c.deletes.Add(1)
	}
	switch st {
	case fuse.OK:
	case fuse.ENOENT:
		c.unknown.Add(1)
	default:
		c.failed.Add(1)
	}
}

// Invalidations returns the counts so far.
func (s *Server) Invalidations() Invalidations {
	c := &s.notify.counts
	return Invalidations{
		Inodes: c.inodes.Load(), Entries: c.entries.Load(), Deletes: c.deletes.Load(),
		Unknown: c.unknown.Load(), Failed: c.failed.Load(),
	}
}

// wrapped is what go-fuse serves: the file system, decorated by
// Options.Wrap if set.
func (f *fileSystem) wrapped() fuse.RawFileSystem {
	if f.opts.Wrap == nil {
		return f
	}
	return f.opts.Wrap(f)
}
