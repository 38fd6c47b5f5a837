package meta

import (
	"context"
	"time"
)

// relatimeAge is how old an access time may grow before any access
// refreshes it, as Linux's relatime.
const relatimeAge = 24 * time.Hour

// atimeDue reports whether an access at now updates n's access time under
// relatime: when it is not newer than the last change or modification, or
// older than a day.
func atimeDue(n *inode, now int64) bool { return AtimeDue(n.Attr, now) }

// AtimeDue is the relatime rule for attributes a and an access at now
// (Unix nanoseconds): callers holding attributes can skip Accessed when it
// is false.
func AtimeDue(a Attr, now int64) bool {
	return a.Atime <= a.Mtime || a.Atime <= a.Ctime || now-a.Atime >= int64(relatimeAge)
}

// Accessed records a read of ino (file data, a directory listing) under
// relatime, and reports whether the access time changed,
// so that a cache of the attributes can be refreshed. Most accesses find
// nothing to do and cost one read.
func (fs *FS) Accessed(ctx context.Context, ino uint64) (bool, error) {
	n, err := fs.getInode(ctx, ino)
	if err != nil {
		return false, fail("accessed", ino, "", err)
	}
	if !atimeDue(n, fs.opts.Now().UnixNano()) {
		return false, nil
	}
	changed := false
	err = fs.update(ctx, func(t *tx) error {
		changed = false
		n, err := t.inode(ino)
		if err != nil || !atimeDue(n, t.now) {
			return err
		}
		n.Atime = t.now
		t.putInode(n)
		changed = true
		return nil
	})
	return changed, fail("accessed", ino, "", err)
}
