package meta

import (
	"context"
	"syscall"
)

// Open checks that c may open ino with the open(2) flags, applies O_TRUNC,
// and counts the open so that an unlinked file lives until its last Release.
func (fs *FS) Open(ctx context.Context, c Caller, ino uint64, flags uint32) (Attr, error) {
	if !fs.openLive(ino) {
		return Attr{}, fail("open", ino, "", syscall.ENOENT)
	}
	a, err := fs.open(ctx, c, ino, flags)
	if err != nil {
		fs.openDec(ino)
	}
	return a, fail("open", ino, "", err)
}

func (fs *FS) open(ctx context.Context, c Caller, ino uint64, flags uint32) (Attr, error) {
	var mask uint32
	switch flags & syscall.O_ACCMODE {
	case syscall.O_RDONLY:
		mask = mayRead
	case syscall.O_WRONLY:
		mask = mayWrite
	default:
		mask = mayRead | mayWrite
	}
	trunc := flags&syscall.O_TRUNC != 0
	if trunc {
		mask |= mayWrite
	}
	n, err := fs.getInode(ctx, ino)
	if err != nil {
		return Attr{}, err
	}
	a := n.Attr
	if n.isDir() && mask&mayWrite != 0 {
		return Attr{}, syscall.EISDIR
	}
	if err := fs.points(ctx).permit(c, n, mask); err != nil {
		return Attr{}, err
	}
	if trunc && n.isReg() {
		return fs.SetAttr(ctx, c, ino, SetAttrIn{Valid: SetSize | SetFromHandle, Size: 0})
	}
	return a, nil
}

// Release ends one Open or Create of ino. The last release of an unlinked
// file deletes it.
func (fs *FS) Release(ctx context.Context, ino uint64) error {
	if fs.openDec(ino) > 0 {
		return nil
	}
	// Only this process makes orphans (reclaimed at start otherwise), so
	// the last release of a file it never orphaned needs no transaction.
	fs.openMu.Lock()
	orphan := fs.orphans[ino]
	fs.openMu.Unlock()
	if !orphan {
		return nil
	}
	err := fs.update(ctx, func(t *tx) error {
		if !t.claimPurge(ino) {
			return nil // opened again meanwhile
		}
		if _, ok, err := t.get(orphanKey(ino)); err != nil || !ok {
			return err
		}
		n, err := t.inode(ino)
		if err != nil {
			return err
		}
		return t.purge(n)
	})
	if err == nil && fs.openCount(ino) == 0 {
		fs.openMu.Lock()
		delete(fs.orphans, ino)
		fs.openMu.Unlock()
	}
	return fail("release", ino, "", err)
}

// Access checks access(2) mask (R_OK=4, W_OK=2, X_OK=1, F_OK=0).
func (fs *FS) Access(ctx context.Context, c Caller, ino uint64, mask uint32) error {
	n, err := fs.getInode(ctx, ino)
	if err != nil {
		return fail("access", ino, "", err)
	}
	return fail("access", ino, "", fs.points(ctx).permit(c, n, mask&7))
}

func (fs *FS) openInc(ino uint64) {
	fs.openMu.Lock()
	fs.opens[ino]++
	fs.openMu.Unlock()
}

// openLive counts an open of an existing inode. It fails if a
// transaction has decided to purge ino: that removal is ordered before
// this open, which then finds nothing.
func (fs *FS) openLive(ino uint64) bool {
	fs.openMu.Lock()
	defer fs.openMu.Unlock()
	if fs.purging[ino] > 0 {
		return false
	}
	fs.opens[ino]++
	return true
}

// claimPurge decides, atomically with respect to openLive, whether ino,
// which has lost its last name, is purged now (true) or kept as an orphan
// because it is open. A claim is dropped when its transaction ends.
func (t *tx) claimPurge(ino uint64) bool {
	fs := t.fs
	fs.openMu.Lock()
	defer fs.openMu.Unlock()
	if fs.opens[ino] > 0 {
		return false
	}
	fs.purging[ino]++
	t.claims = append(t.claims, ino)
	return true
}

func (fs *FS) dropClaims(inos []uint64) {
	if len(inos) == 0 {
		return
	}
	fs.openMu.Lock()
	defer fs.openMu.Unlock()
	for _, ino := range inos {
		if fs.purging[ino]--; fs.purging[ino] <= 0 {
			delete(fs.purging, ino)
		}
	}
}

func (fs *FS) openDec(ino uint64) int {
	fs.openMu.Lock()
	defer fs.openMu.Unlock()
	n := fs.opens[ino] - 1
	if n <= 0 {
		delete(fs.opens, ino)
		return 0
	}
	fs.opens[ino] = n
	return n
}

func (fs *FS) openCount(ino uint64) int {
	fs.openMu.Lock()
	defer fs.openMu.Unlock()
	return fs.opens[ino]
}
