package meta

import (
	"context"
	"errors"
	"syscall"
)

// Lookup resolves name in directory parent. Looking up needs search (x)
// permission on parent. "." and ".." resolve to parent and its parent.
func (fs *FS) Lookup(ctx context.Context, c Caller, parent uint64, name string) (Attr, error) {
	var a Attr
	err := fs.view(ctx, func(r reader) error {
		var err error
		a, err = lookup(r, c, parent, name)
		return err
	})
	return a, fail("lookup", parent, name, err)
}

// lookup reads in one snapshot: the parent, its entry, the child. (Three
// point reads measured no faster than a View here.)
func lookup(r reader, c Caller, parent uint64, name string) (Attr, error) {
	if name != "." && name != ".." {
		r.prefetch(inodeKey(parent), direntKey(parent, name))
	}
	p, err := r.dir(parent)
	if err != nil {
		return Attr{}, err
	}
	if err := r.permit(c, p, mayExec); err != nil {
		return Attr{}, err
	}
	switch name {
	case ".":
		return p.Attr, nil
	case "..":
		pp, err := r.inode(p.Parent)
		if err != nil {
			return Attr{}, err
		}
		return pp.Attr, nil
	}
	if len(name) > 255 {
		return Attr{}, syscall.ENAMETOOLONG
	}
	d, ok, err := r.dirent(parent, name)
	if err != nil {
		return Attr{}, err
	}
	if !ok {
		return Attr{}, syscall.ENOENT
	}
	n, err := r.inode(d.Ino)
	if err != nil {
		return Attr{}, err
	}
	return n.Attr, nil
}

// GetAttr returns the attributes of ino.
func (fs *FS) GetAttr(ctx context.Context, ino uint64) (Attr, error) {
	n, err := fs.getInode(ctx, ino)
	if err != nil {
		return Attr{}, fail("getattr", ino, "", err)
	}
	return n.Attr, nil
}

// Readlink returns the target of symlink ino.
func (fs *FS) Readlink(ctx context.Context, ino uint64) (string, error) {
	var target string
	err := fs.view(ctx, func(r reader) error {
		n, err := r.inode(ino)
		if err != nil {
			return err
		}
		if n.fileType() != syscall.S_IFLNK {
			return errInval
		}
		target = n.Target
		return nil
	})
	return target, fail("readlink", ino, "", err)
}

// Mknod makes a regular file, fifo, socket or device node.
func (fs *FS) Mknod(ctx context.Context, c Caller, parent uint64, name string, mode, rdev uint32) (Attr, error) {
	switch mode & syscall.S_IFMT {
	case 0:
		mode |= syscall.S_IFREG
	case syscall.S_IFREG, syscall.S_IFIFO, syscall.S_IFSOCK:
		rdev = 0
	case syscall.S_IFCHR, syscall.S_IFBLK:
		if c.UID != 0 {
			return Attr{}, fail("mknod", parent, name, errPerm)
		}
	default:
		return Attr{}, fail("mknod", parent, name, errInval)
	}
	a, err := fs.makeNode(ctx, c, parent, name, mode, rdev, "")
	return a, fail("mknod", parent, name, err)
}

// Mkdir makes a directory.
func (fs *FS) Mkdir(ctx context.Context, c Caller, parent uint64, name string, mode uint32) (Attr, error) {
	a, err := fs.makeNode(ctx, c, parent, name, syscall.S_IFDIR|mode&0o7777, 0, "")
	return a, fail("mkdir", parent, name, err)
}

// Symlink makes a symbolic link to target.
func (fs *FS) Symlink(ctx context.Context, c Caller, parent uint64, name, target string) (Attr, error) {
	if target == "" || len(target) > 4095 {
		return Attr{}, fail("symlink", parent, name, syscall.ENOENT)
	}
	a, err := fs.makeNode(ctx, c, parent, name, syscall.S_IFLNK|0o777, 0, target)
	return a, fail("symlink", parent, name, err)
}

// Create makes a regular file and opens it (as Open does) in one step.
// An existing name is EEXIST.
func (fs *FS) Create(ctx context.Context, c Caller, parent uint64, name string, mode, flags uint32) (Attr, error) {
	ino, err := fs.inos.alloc(ctx, fs, 1)
	if err != nil {
		return Attr{}, fail("create", parent, name, err)
	}
	fs.openInc(ino) // counted before the inode exists, so no unlink can miss it
	a, err := fs.makeNodeIno(ctx, c, ino, parent, name, syscall.S_IFREG|mode&0o7777, 0, "", newAt{})
	if err != nil {
		fs.openDec(ino)
	}
	return a, fail("create", parent, name, err)
}

func (fs *FS) makeNode(ctx context.Context, c Caller, parent uint64, name string, mode, rdev uint32, target string) (Attr, error) {
	ino, err := fs.inos.alloc(ctx, fs, 1)
	if err != nil {
		return Attr{}, err
	}
	return fs.makeNodeIno(ctx, c, ino, parent, name, mode, rdev, target, newAt{})
}

// makeNodeIno makes inode ino named name in parent, at the
// transaction's time or at.at; in the latter case the parent's change
// times become the later of theirs and the new node's.
func (fs *FS) makeNodeIno(ctx context.Context, c Caller, ino, parent uint64, name string, mode, rdev uint32, target string, at newAt) (Attr, error) {
	if err := validName(name); err != nil {
		return Attr{}, err
	}
	var a Attr
	err := fs.update(ctx, func(t *tx) error {
		var err error
		a, err = t.makeNode(c, ino, parent, name, mode, rdev, target, at, UmaskFrom(ctx))
		return err
	})
	return a, err
}

// makeNode makes the node in t. Everything that can refuse it is checked
// before anything is written.
func (t *tx) makeNode(c Caller, ino, parent uint64, name string, mode, rdev uint32, target string, at newAt, umask uint32) (Attr, error) {
	t.prefetch(inodeKey(parent), direntKey(parent, name))
	now := t.now
	if at.at != 0 {
		now = at.at
	}
	p, err := t.dir(parent)
	if err != nil {
		return Attr{}, err
	}
	if err := t.permit(c, p, mayWrite|mayExec); err != nil {
		return Attr{}, err
	}
	if _, ok, err := t.dirent(parent, name); err != nil {
		return Attr{}, err
	} else if ok {
		return Attr{}, syscall.EEXIST
	}
	if at.at != 0 && !at.unused {
		if _, err := t.inode(ino); err == nil {
			return Attr{}, syscall.EEXIST // a number already used: never reuse it
		} else if !errors.Is(err, syscall.ENOENT) {
			return Attr{}, err
		}
	}
	n := &inode{Attr: Attr{
		Ino: ino, Mode: mode, Nlink: 1, UID: c.UID, GID: c.GID, Rdev: rdev,
		Atime: now, Mtime: now, Ctime: now,
	}, Target: target}
	if p.Mode&syscall.S_ISGID != 0 {
		n.GID = p.GID
		if n.isDir() {
			n.Mode |= syscall.S_ISGID
		}
	}
	if !n.isDir() && n.Mode&syscall.S_ISGID != 0 && c.UID != 0 && !c.InGroup(n.GID) {
		n.Mode &^= syscall.S_ISGID
	}
	if err := t.inheritACL(p, n, umask); err != nil {
		return Attr{}, err
	}
	if n.isDir() {
		n.Nlink = 2
		n.Parent = parent
		p.Nlink++
	}
	if n.fileType() == syscall.S_IFLNK {
		n.Size = uint64(len(target))
	}
	if at.at == 0 {
		p.Mtime, p.Ctime = now, now
	} else {
		p.Mtime, p.Ctime = max(p.Mtime, now), max(p.Ctime, now)
	}
	t.putInode(n)
	t.putInode(p)
	t.putDirent(parent, name, dirent{Ino: ino, Type: n.fileType()})
	t.files++
	return n.Attr, nil
}

// Link makes newName in newParent another name of ino.
func (fs *FS) Link(ctx context.Context, c Caller, ino, newParent uint64, newName string) (Attr, error) {
	if err := validName(newName); err != nil {
		return Attr{}, fail("link", newParent, newName, err)
	}
	var a Attr
	err := fs.update(ctx, func(t *tx) error {
		t.prefetch(inodeKey(ino), inodeKey(newParent), direntKey(newParent, newName))
		n, err := t.inode(ino)
		if err != nil {
			return err
		}
		if n.isDir() {
			return errPerm
		}
		if n.Nlink == 0 && n.Flags&inodeLinkable == 0 {
			return syscall.ENOENT
		}
		p, err := t.dir(newParent)
		if err != nil {
			return err
		}
		if err := t.permit(c, p, mayWrite|mayExec); err != nil {
			return err
		}
		if _, ok, err := t.dirent(newParent, newName); err != nil {
			return err
		} else if ok {
			return syscall.EEXIST
		}
		if n.Nlink >= 65000 {
			return syscall.EMLINK
		}
		if n.Nlink == 0 { // naming an O_TMPFILE file
			n.Flags &^= inodeLinkable
			t.t.Delete(orphanKey(n.Ino))
		}
		n.Nlink++
		n.Ctime = t.now
		p.Mtime, p.Ctime = t.now, t.now
		t.putInode(n)
		t.putInode(p)
		t.putDirent(newParent, newName, dirent{Ino: ino, Type: n.fileType()})
		a = n.Attr
		return nil
	})
	return a, fail("link", newParent, newName, err)
}

// Tmpfile makes an unnamed regular file in directory parent, open (as
// Create), for O_TMPFILE. It lives until its last Release unless Link
// gives it a name.
func (fs *FS) Tmpfile(ctx context.Context, c Caller, parent uint64, mode uint32) (Attr, error) {
	ino, err := fs.inos.alloc(ctx, fs, 1)
	if err != nil {
		return Attr{}, fail("tmpfile", parent, "", err)
	}
	fs.openInc(ino)
	var a Attr
	err = fs.update(ctx, func(t *tx) error {
		p, err := t.dir(parent)
		if err != nil {
			return err
		}
		if err := t.permit(c, p, mayWrite|mayExec); err != nil {
			return err
		}
		n := &inode{Attr: Attr{
			Ino: ino, Mode: syscall.S_IFREG | mode&0o7777, UID: c.UID, GID: c.GID,
			Atime: t.now, Mtime: t.now, Ctime: t.now,
		}, Flags: inodeLinkable}
		if p.Mode&syscall.S_ISGID != 0 {
			n.GID = p.GID
		}
		if err := t.inheritACL(p, n, UmaskFrom(ctx)); err != nil {
			return err
		}
		t.putInode(n)
		t.markOrphan(ino)
		t.files++
		a = n.Attr
		return nil
	})
	if err != nil {
		fs.openDec(ino)
	}
	return a, fail("tmpfile", parent, "", err)
}
