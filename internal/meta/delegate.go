package meta

import (
	"context"
	"encoding/binary"
	"syscall"
)

// A client that holds a directory's delegation (package service) answers
// creates in it itself, with inode numbers the service reserved for it
// (NewInos) and attributes it can compute exactly (Delegable says where it
// can), then sends them here (CreateAs), which makes exactly that inode.

// Delegable returns dir's attributes and whether a client can compute the
// attributes of a file created in it: dir is a directory without extended
// attributes, so without a default ACL.
func (fs *FS) Delegable(ctx context.Context, dir uint64) (Attr, bool, error) {
	var a Attr
	ok := false
	err := fs.view(ctx, func(r reader) error {
		n, err := r.dir(dir)
		if err != nil {
			return err
		}
		a, ok = n.Attr, n.Flags&inodeXattrs == 0
		return nil
	})
	return a, ok, fail("delegable", dir, "", err)
}

// NewInos reserves n inode numbers and returns the first.
func (fs *FS) NewInos(ctx context.Context, n int) (uint64, error) {
	if n <= 0 {
		return 0, fail("newinos", 0, "", errInval)
	}
	ino, err := fs.inos.alloc(ctx, fs, uint64(n))
	return ino, fail("newinos", 0, "", err)
}

// CreateAs is Create with the inode number and times chosen by the
// caller: ino must have been reserved (NewInos) and not used yet, at is
// the new file's times in Unix nanoseconds. The file is left open (as
// Create leaves it) if open is set.
func (fs *FS) CreateAs(ctx context.Context, c Caller, ino, parent uint64, name string, mode uint32, at int64, open bool) (Attr, error) {
	if at == 0 {
		return Attr{}, fail("create", parent, name, errInval)
	}
	if err := fs.reserved(ctx, ino); err != nil {
		return Attr{}, fail("create", parent, name, err)
	}
	if open {
		fs.openInc(ino)
	}
	a, err := fs.makeNodeIno(ctx, c, ino, parent, name, syscall.S_IFREG|mode&0o7777, 0, "", at)
	if err != nil && open {
		fs.openDec(ino)
	}
	return a, fail("create", parent, name, err)
}

// reserved checks that ino was handed out by the inode allocator: below
// the next number it hands out, or else below the store's counter.
func (fs *FS) reserved(ctx context.Context, ino uint64) error {
	fs.inos.mu.Lock()
	next := fs.inos.next
	fs.inos.mu.Unlock()
	if ino > RootIno && ino < next {
		return nil
	}
	return fs.view(ctx, func(r reader) error {
		p, ok, err := r.get(fs.inos.key)
		if err != nil {
			return err
		}
		if ino <= RootIno || !ok || len(p) != 8 || ino >= binary.LittleEndian.Uint64(p) {
			return errInval
		}
		return nil
	})
}
