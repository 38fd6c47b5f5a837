package meta

import (
	"context"
	"strings"
	"syscall"

	"github.com/ferryfs/ferry/internal/kv"
)

const (
	xattrNameMax = 255
	xattrSizeMax = 64 << 10
)

// xattrAllowed checks whether c may read (write=false) or change the
// attribute name of n, by namespace, as Linux does.
func (r reader) xattrAllowed(c Caller, n *inode, name string, write bool) error {
	switch {
	case strings.HasPrefix(name, "user."):
		if !n.isReg() && !n.isDir() {
			if write {
				return errPerm
			}
			return syscall.ENODATA
		}
		if n.isDir() && n.Mode&syscall.S_ISVTX != 0 && write && c.UID != 0 && c.UID != n.UID {
			return errPerm
		}
		if write {
			return r.permit(c, n, mayWrite)
		}
		return r.permit(c, n, mayRead)
	case strings.HasPrefix(name, "trusted."):
		if c.UID != 0 {
			if write {
				return errPerm
			}
			return syscall.ENODATA
		}
	case strings.HasPrefix(name, "security."):
		if write && c.UID != 0 && c.UID != n.UID {
			return errPerm
		}
	case strings.HasPrefix(name, "system."):
		if write && c.UID != 0 && c.UID != n.UID {
			return errPerm
		}
	default:
		return syscall.EOPNOTSUPP
	}
	return nil
}

func validXattrName(name string) error {
	if name == "" || len(name) > xattrNameMax {
		return syscall.ERANGE
	}
	if i := strings.IndexByte(name, '.'); i < 0 || i == len(name)-1 {
		if strings.HasPrefix(name, "user") || strings.HasPrefix(name, "trusted") ||
			strings.HasPrefix(name, "security") || strings.HasPrefix(name, "system") {
			return syscall.EINVAL
		}
		return syscall.EOPNOTSUPP
	}
	return nil
}

// GetXattr returns the value of attribute name of ino.
func (fs *FS) GetXattr(ctx context.Context, c Caller, ino uint64, name string) ([]byte, error) {
	if err := validXattrName(name); err != nil {
		return nil, fail("getxattr", ino, name, err)
	}
	var val []byte
	err := fs.view(ctx, func(r reader) error {
		n, err := r.inode(ino)
		if err != nil {
			return err
		}
		if err := r.xattrAllowed(c, n, name, false); err != nil {
			return err
		}
		p, ok, err := r.get(xattrKey(ino, name))
		if err != nil {
			return err
		}
		if !ok {
			return syscall.ENODATA
		}
		val = p
		return nil
	})
	return val, fail("getxattr", ino, name, err)
}

// ListXattr lists the attribute names of ino that c may see.
func (fs *FS) ListXattr(ctx context.Context, c Caller, ino uint64) ([]string, error) {
	var names []string
	err := fs.view(ctx, func(r reader) error {
		names = names[:0]
		if _, err := r.inode(ino); err != nil {
			return err
		}
		xp := xattrPrefix(ino)
		return r.r.Scan(xp, kv.PrefixEnd(xp), func(k, v []byte) bool {
			name := string(k[len(xp):])
			if !strings.HasPrefix(name, "trusted.") || c.UID == 0 {
				names = append(names, name)
			}
			return true
		})
	})
	return names, fail("listxattr", ino, "", err)
}

// SetXattr sets attribute name of ino, with XattrCreate / XattrReplace.
func (fs *FS) SetXattr(ctx context.Context, c Caller, ino uint64, name string, value []byte, flags uint32) error {
	if err := validXattrName(name); err != nil {
		return fail("setxattr", ino, name, err)
	}
	if len(value) > xattrSizeMax {
		return fail("setxattr", ino, name, syscall.E2BIG)
	}
	if flags&^(XattrCreate|XattrReplace) != 0 {
		return fail("setxattr", ino, name, errInval)
	}
	err := fs.update(ctx, func(t *tx) error {
		n, err := t.inode(ino)
		if err != nil {
			return err
		}
		if err := t.xattrAllowed(c, n, name, true); err != nil {
			return err
		}
		if name == ACLAccess || name == ACLDefault {
			return t.setACL(c, n, name, value) // create/replace flags do not apply, as on Linux
		}
		_, ok, err := t.get(xattrKey(ino, name))
		if err != nil {
			return err
		}
		if ok && flags&XattrCreate != 0 {
			return syscall.EEXIST
		}
		if !ok && flags&XattrReplace != 0 {
			return syscall.ENODATA
		}
		t.put(xattrKey(ino, name), value)
		n.Flags |= inodeXattrs
		n.Ctime = t.now
		t.putInode(n)
		return nil
	})
	return fail("setxattr", ino, name, err)
}

// RemoveXattr removes attribute name of ino.
func (fs *FS) RemoveXattr(ctx context.Context, c Caller, ino uint64, name string) error {
	if err := validXattrName(name); err != nil {
		return fail("removexattr", ino, name, err)
	}
	err := fs.update(ctx, func(t *tx) error {
		n, err := t.inode(ino)
		if err != nil {
			return err
		}
		if err := t.xattrAllowed(c, n, name, true); err != nil {
			return err
		}
		if _, ok, err := t.get(xattrKey(ino, name)); err != nil {
			return err
		} else if !ok {
			return syscall.ENODATA
		}
		t.t.Delete(xattrKey(ino, name))
		n.Ctime = t.now
		t.putInode(n)
		return nil
	})
	return fail("removexattr", ino, name, err)
}
