package meta

import (
	"context"
	"syscall"
)

// Hold counts a reference to ino that is not an open: the FUSE adapter
// holds fifos, sockets and devices while the kernel knows them, since the
// kernel sends no OPEN for those. Like an open, a hold keeps an unlinked
// inode (as an orphan) until its last Release. Hold fails with ENOENT if
// ino no longer exists.
func (fs *FS) Hold(ctx context.Context, ino uint64) error {
	if !fs.openLive(ino) {
		return fail("hold", ino, "", syscall.ENOENT)
	}
	if _, err := fs.GetAttr(ctx, ino); err != nil {
		if rerr := fs.Release(ctx, ino); rerr != nil {
			fs.log.Warn("meta: release after a failed hold", "ino", ino, "err", rerr)
		}
		return fail("hold", ino, "", err)
	}
	return nil
}
