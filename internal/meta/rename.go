package meta

import (
	"context"
	"syscall"
)

// Rename moves oldName in oldParent to newName in newParent, with the
// renameat2(2) flags RENAME_NOREPLACE and RENAME_EXCHANGE.
func (fs *FS) Rename(ctx context.Context, c Caller, oldParent uint64, oldName string, newParent uint64, newName string, flags uint32) error {
	if flags&^(RenameNoReplace|RenameExchange) != 0 || flags == RenameNoReplace|RenameExchange {
		return fail("rename", oldParent, oldName, errInval)
	}
	for _, n := range []string{oldName, newName} {
		if err := validName(n); err != nil {
			return fail("rename", oldParent, oldName, err)
		}
	}
	err := fs.update(ctx, func(t *tx) error {
		t.prefetch(inodeKey(oldParent), direntKey(oldParent, oldName), inodeKey(newParent), direntKey(newParent, newName))
		op, src, err := t.removable(c, oldParent, oldName)
		if err != nil {
			return err
		}
		np := op
		if newParent != oldParent {
			if np, err = t.dir(newParent); err != nil {
				return err
			}
			if err := t.permit(c, np, mayWrite|mayExec); err != nil {
				return err
			}
		}
		d, exists, err := t.dirent(newParent, newName)
		if err != nil {
			return err
		}
		var dst *inode
		if exists {
			if d.Ino == src.Ino {
				return nil // both names refer to the same file: nothing to do
			}
			if flags&RenameNoReplace != 0 {
				return syscall.EEXIST
			}
			if dst, err = t.inode(d.Ino); err != nil {
				return err
			}
			if !stickyOK(c, np, dst) {
				return errPerm
			}
		} else if flags&RenameExchange != 0 {
			return syscall.ENOENT
		}
		if newParent != oldParent {
			// A directory that changes parent needs write permission on
			// itself (its ".." changes) and must not move below itself.
			for _, moved := range []*inode{src, dst} {
				if moved == nil || !moved.isDir() || (moved == dst && flags&RenameExchange == 0) {
					continue
				}
				if err := t.permit(c, moved, mayWrite); err != nil {
					return err
				}
				target := newParent
				if moved == dst {
					target = oldParent
				}
				if err := t.notBelow(moved.Ino, target); err != nil {
					return err
				}
			}
		}
		if flags&RenameExchange != 0 {
			return t.exchange(op, oldName, src, np, newName, dst)
		}
		if dst != nil {
			if src.isDir() {
				if !dst.isDir() {
					return syscall.ENOTDIR
				}
				if err := t.mustBeEmpty(dst.Ino); err != nil {
					return err
				}
				np.Nlink--
				if err := t.dropDir(dst); err != nil {
					return err
				}
			} else {
				if dst.isDir() {
					return syscall.EISDIR
				}
				if err := t.dropLink(dst); err != nil {
					return err
				}
			}
		}
		t.delDirent(oldParent, oldName)
		t.putDirent(newParent, newName, dirent{Ino: src.Ino, Type: src.fileType()})
		src.Ctime = t.now
		if src.isDir() && newParent != oldParent {
			src.Parent = newParent
			op.Nlink--
			np.Nlink++
		}
		t.putInode(src)
		op.Mtime, op.Ctime = t.now, t.now
		np.Mtime, np.Ctime = t.now, t.now
		t.putInode(op)
		if np != op {
			t.putInode(np)
		}
		return nil
	})
	return fail("rename", oldParent, oldName, err)
}

// exchange swaps two existing entries atomically.
func (t *tx) exchange(op *inode, oldName string, src, np *inode, newName string, dst *inode) error {
	t.putDirent(op.Ino, oldName, dirent{Ino: dst.Ino, Type: dst.fileType()})
	t.putDirent(np.Ino, newName, dirent{Ino: src.Ino, Type: src.fileType()})
	if op != np {
		if src.isDir() {
			src.Parent = np.Ino
			op.Nlink--
			np.Nlink++
		}
		if dst.isDir() {
			dst.Parent = op.Ino
			np.Nlink--
			op.Nlink++
		}
	}
	src.Ctime, dst.Ctime = t.now, t.now
	t.putInode(src)
	t.putInode(dst)
	op.Mtime, op.Ctime = t.now, t.now
	np.Mtime, np.Ctime = t.now, t.now
	t.putInode(op)
	if np != op {
		t.putInode(np)
	}
	return nil
}

// notBelow fails with EINVAL if dir is target or one of its ancestors.
func (t *tx) notBelow(dir, target uint64) error {
	for i := 0; i < 1<<16; i++ {
		if target == dir {
			return errInval
		}
		if target == RootIno {
			return nil
		}
		n, err := t.inode(target)
		if err != nil {
			return err
		}
		target = n.Parent
	}
	return syscall.ELOOP
}
