package meta

import (
	"context"
	"syscall"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/kv"
)

// Unlink removes name from parent; the inode goes when its last name and
// its last open are gone.
func (fs *FS) Unlink(ctx context.Context, c Caller, parent uint64, name string) error {
	err := fs.update(ctx, func(t *tx) error {
		p, n, err := t.removable(c, parent, name)
		if err != nil {
			return err
		}
		if n.isDir() {
			return syscall.EISDIR
		}
		t.delDirent(parent, name)
		p.Mtime, p.Ctime = t.now, t.now
		t.putInode(p)
		return t.dropLink(n)
	})
	return fail("unlink", parent, name, err)
}

// Rmdir removes the empty directory name from parent.
func (fs *FS) Rmdir(ctx context.Context, c Caller, parent uint64, name string) error {
	if name == "." {
		return fail("rmdir", parent, name, errInval)
	}
	if name == ".." {
		return fail("rmdir", parent, name, syscall.ENOTEMPTY)
	}
	err := fs.update(ctx, func(t *tx) error {
		p, n, err := t.removable(c, parent, name)
		if err != nil {
			return err
		}
		if !n.isDir() {
			return syscall.ENOTDIR
		}
		if err := t.mustBeEmpty(n.Ino); err != nil {
			return err
		}
		t.delDirent(parent, name)
		p.Nlink--
		p.Mtime, p.Ctime = t.now, t.now
		t.putInode(p)
		return t.dropDir(n)
	})
	return fail("rmdir", parent, name, err)
}

// removable looks up name in parent and checks that c may remove it.
func (t *tx) removable(c Caller, parent uint64, name string) (*inode, *inode, error) {
	if err := validName(name); err != nil {
		return nil, nil, err
	}
	t.prefetch(inodeKey(parent), direntKey(parent, name))
	p, err := t.dir(parent)
	if err != nil {
		return nil, nil, err
	}
	if err := t.permit(c, p, mayWrite|mayExec); err != nil {
		return nil, nil, err
	}
	d, ok, err := t.dirent(parent, name)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, syscall.ENOENT
	}
	n, err := t.inode(d.Ino)
	if err != nil {
		return nil, nil, err
	}
	if !stickyOK(c, p, n) {
		return nil, nil, errPerm
	}
	return p, n, nil
}

func (t *tx) mustBeEmpty(dir uint64) error {
	empty := true
	prefix := direntPrefix(dir)
	err := t.r.Scan(prefix, kv.PrefixEnd(prefix), func(k, v []byte) bool {
		empty = false
		return false
	})
	if err != nil {
		return err
	}
	if !empty {
		return syscall.ENOTEMPTY
	}
	return nil
}

// dropLink takes one link away from a non-directory; at zero links the
// inode becomes an orphan if it is open, or is purged.
func (t *tx) dropLink(n *inode) error {
	n.Nlink--
	n.Ctime = t.now
	if n.Nlink > 0 {
		t.putInode(n)
		return nil
	}
	if !t.claimPurge(n.Ino) {
		t.putInode(n)
		t.markOrphan(n.Ino)
		return nil
	}
	return t.purgeLinked(n)
}

// dropDir removes an empty directory's inode, or keeps it as an orphan
// while it is open (a process may still have it as its working directory).
func (t *tx) dropDir(n *inode) error {
	if !t.claimPurge(n.Ino) {
		n.Nlink = 0
		n.Ctime = t.now
		t.putInode(n)
		t.markOrphan(n.Ino)
		return nil
	}
	return t.purgeLinked(n)
}

// purge deletes an inode and everything it owns.
func (t *tx) purge(n *inode) error { return t.purgeInode(n, true) }

// purgeLinked purges an inode that had a name until this transaction: it
// has no orphan record to delete.
func (t *tx) purgeLinked(n *inode) error { return t.purgeInode(n, false) }

// purgeInode deletes an inode and everything it owns; orphan says whether
// an orphan record may exist.
func (t *tx) purgeInode(n *inode, orphan bool) error {
	ino := n.Ino
	var garbage []uint64
	bp := blockPrefix(ino)
	var keys [][]byte
	// Pieces never lie past the size, so an empty file has no blocks; and
	// only a flagged inode has extended attributes. Skipping those scans
	// makes removing small files cheap.
	scanBlocks := n.isReg() && n.Size > 0
	bpEnd := kv.PrefixEnd(bp)
	if !scanBlocks {
		bpEnd = bp
	}
	err := t.scan(bp, bpEnd, func(k, p []byte) (bool, error) {
		ps, err := decodePieces(p)
		if err != nil {
			return false, err
		}
		for id := range chunk.Objects(ps) {
			garbage = append(garbage, id)
		}
		keys = append(keys, append([]byte(nil), k...))
		return true, nil
	})
	if err != nil {
		return err
	}
	if n.Flags&inodeXattrs != 0 {
		xp := xattrPrefix(ino)
		err = t.r.Scan(xp, kv.PrefixEnd(xp), func(k, v []byte) bool {
			keys = append(keys, append([]byte(nil), k...))
			return true
		})
		if err != nil {
			return err
		}
	}
	for _, k := range keys {
		t.t.Delete(k)
	}
	t.dropObjects(garbage)
	t.t.Delete(inodeKey(ino))
	t.changes.gone(ino)
	if orphan {
		t.t.Delete(orphanKey(ino))
	}
	t.files--
	if n.isReg() {
		t.bytes -= int64(n.Size)
	}
	return nil
}
