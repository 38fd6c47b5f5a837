package client

import (
	"context"
	"syscall"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// The metadata service over the session: fusefs.Meta.

func (c *Client) attr(ctx context.Context, op wire.Op, req wire.Message) (meta.Attr, error) {
	var r wire.AttrReply
	err := c.call(ctx, op, req, &r)
	return r.Attr, err
}

// entryOp runs a call that creates a name in parent and records it, and
// the parent's attributes after the change.
func (c *Client) entryOp(ctx context.Context, op wire.Op, parent uint64, name string, req wire.Message) (meta.Attr, error) {
	defer c.changing(parent)()
	c.changedHere(parent)
	snap := c.cacheSnap()
	var r wire.Entered
	err := c.call(ctx, op, req, &r)
	c.listed(parent, name, true, err)
	if err == nil {
		c.named(parent, name, r.Attr.Ino)
		if r.Parent.Ino == parent {
			c.rememberDir(r.Parent, snap)
		}
		if op == wire.OpMkdir {
			c.startListing(r.Attr.Ino, snap)
		}
	}
	return r.Attr, err
}

// removeOp runs unlink, rmdir or rename and records the directories'
// attributes after the change.
func (c *Client) removeOp(ctx context.Context, op wire.Op, req wire.Message, name string, dirs ...uint64) error {
	defer c.changing(dirs...)()
	for _, d := range dirs {
		c.changedHere(d)
	}
	if op != wire.OpUnlink {
		c.forgetDirs() // a directory moved or went: the ones under it too
	}
	snap := c.cacheSnap()
	var r wire.Parents
	err := c.call(ctx, op, req, &r)
	if op == wire.OpRename {
		c.dropListings(dirs...)
	} else {
		c.listed(dirs[0], name, false, err)
	}
	if err == nil && op == wire.OpUnlink {
		for _, a := range r.Attrs {
			if a.Ino == dirs[0] {
				c.rememberDir(a, snap)
			}
		}
	}
	return err
}

func (c *Client) Lookup(ctx context.Context, cl meta.Caller, parent uint64, name string) (meta.Attr, error) {
	if c.knownAbsent(parent, name) {
		c.local.lookups.Add(1)
		return meta.Attr{}, &wire.RemoteError{Op: wire.OpLookup, Errno: syscall.ENOENT, Reason: "no such name (leased listing)"}
	}
	a, err := c.attr(ctx, wire.OpLookup, &wire.Entry{C: cl, Parent: parent, Name: name})
	if err == nil {
		c.named(parent, name, a.Ino)
	}
	return a, err
}

func (c *Client) GetAttr(ctx context.Context, ino uint64) (meta.Attr, error) {
	if a, ok := c.knownDir(ino); ok {
		c.local.getattrs.Add(1)
		return a, nil
	}
	return c.attr(ctx, wire.OpGetAttr, &wire.Ino{Ino: ino})
}

func (c *Client) SetAttr(ctx context.Context, cl meta.Caller, ino uint64, in meta.SetAttrIn) (meta.Attr, error) {
	defer c.changedHere(ino)
	c.undelegate(ino)
	return c.attr(ctx, wire.OpSetAttr, &wire.SetAttr{C: cl, Ino: ino, In: in})
}

func (c *Client) Mknod(ctx context.Context, cl meta.Caller, parent uint64, name string, mode, rdev uint32) (meta.Attr, error) {
	return c.entryOp(ctx, wire.OpMknod, parent, name, &wire.Make{C: cl, Parent: parent, Name: name, Mode: mode, Rdev: rdev, Umask: meta.UmaskFrom(ctx)})
}

func (c *Client) Mkdir(ctx context.Context, cl meta.Caller, parent uint64, name string, mode uint32) (meta.Attr, error) {
	return c.entryOp(ctx, wire.OpMkdir, parent, name, &wire.Make{C: cl, Parent: parent, Name: name, Mode: mode, Umask: meta.UmaskFrom(ctx)})
}

func (c *Client) Create(ctx context.Context, cl meta.Caller, parent uint64, name string, mode, flags uint32) (meta.Attr, error) {
	if a, ok, err := c.createHere(ctx, cl, parent, name, mode, flags); ok {
		return a, err
	}
	a, err := c.entryOp(ctx, wire.OpCreate, parent, name, &wire.Make{C: cl, Parent: parent, Name: name, Mode: mode, Flags: flags, Umask: meta.UmaskFrom(ctx)})
	if err == nil {
		c.opened(a.Ino)
	}
	return a, err
}

func (c *Client) Tmpfile(ctx context.Context, cl meta.Caller, parent uint64, mode uint32) (meta.Attr, error) {
	defer c.changedHere(parent)
	a, err := c.attr(ctx, wire.OpTmpfile, &wire.Make{C: cl, Parent: parent, Mode: mode, Umask: meta.UmaskFrom(ctx)})
	if err == nil {
		c.opened(a.Ino)
	}
	return a, err
}

func (c *Client) Symlink(ctx context.Context, cl meta.Caller, parent uint64, name, target string) (meta.Attr, error) {
	return c.entryOp(ctx, wire.OpSymlink, parent, name, &wire.Make{C: cl, Parent: parent, Name: name, Target: target})
}

func (c *Client) Readlink(ctx context.Context, ino uint64) (string, error) {
	var r wire.Text
	err := c.call(ctx, wire.OpReadlink, &wire.Ino{Ino: ino}, &r)
	return r.S, err
}

func (c *Client) Link(ctx context.Context, cl meta.Caller, ino, newParent uint64, newName string) (meta.Attr, error) {
	defer c.changedHere(ino)
	return c.entryOp(ctx, wire.OpLink, newParent, newName, &wire.Link{C: cl, Ino: ino, NewParent: newParent, NewName: newName})
}

func (c *Client) Unlink(ctx context.Context, cl meta.Caller, parent uint64, name string) error {
	return c.removeOp(ctx, wire.OpUnlink, &wire.Entry{C: cl, Parent: parent, Name: name}, name, parent)
}

func (c *Client) Rmdir(ctx context.Context, cl meta.Caller, parent uint64, name string) error {
	return c.removeOp(ctx, wire.OpRmdir, &wire.Entry{C: cl, Parent: parent, Name: name}, name, parent)
}

func (c *Client) Rename(ctx context.Context, cl meta.Caller, oldParent uint64, oldName string, newParent uint64, newName string, flags uint32) error {
	return c.removeOp(ctx, wire.OpRename, &wire.Rename{C: cl, OldParent: oldParent, OldName: oldName, NewParent: newParent, NewName: newName, Flags: flags}, "", oldParent, newParent)
}

func (c *Client) Open(ctx context.Context, cl meta.Caller, ino uint64, flags uint32) (meta.Attr, error) {
	defer c.changedHere(ino)
	a, err := c.attr(ctx, wire.OpOpen, &wire.InoOp{C: cl, Ino: ino, N: flags})
	if err == nil {
		c.opened(ino)
	}
	return a, err
}

func (c *Client) Release(ctx context.Context, ino uint64) error {
	c.closed(ino)
	if c.releaseHere(ino) {
		return nil
	}
	return c.call(ctx, wire.OpRelease, &wire.Ino{Ino: ino}, nil)
}

func (c *Client) Accessed(ctx context.Context, ino uint64) (bool, error) {
	defer c.changedHere(ino)
	var r wire.Bool
	err := c.call(ctx, wire.OpAccessed, &wire.Ino{Ino: ino}, &r)
	return r.V, err
}

func (c *Client) Hold(ctx context.Context, ino uint64) error {
	err := c.call(ctx, wire.OpHold, &wire.Ino{Ino: ino}, nil)
	if err == nil {
		c.opened(ino)
	}
	return err
}

func (c *Client) Access(ctx context.Context, cl meta.Caller, ino uint64, mask uint32) error {
	return c.call(ctx, wire.OpAccess, &wire.InoOp{C: cl, Ino: ino, N: mask}, nil)
}

func (c *Client) ReadDir(ctx context.Context, cl meta.Caller, ino, cookie uint64, max int, plus bool) ([]meta.DirEntry, error) {
	var r wire.DirEntries
	err := c.call(ctx, wire.OpReadDir, &wire.ReadDir{C: cl, Ino: ino, Cookie: cookie, Max: uint32(max), Plus: plus}, &r)
	if err == nil && plus {
		for _, e := range r.Entries {
			if e.Attr != nil {
				c.named(ino, e.Name, e.Ino)
			}
		}
	}
	return r.Entries, err
}

func (c *Client) GetXattr(ctx context.Context, cl meta.Caller, ino uint64, name string) ([]byte, error) {
	if c.knownNoXattr(ino, name) {
		c.local.getxattrs.Add(1)
		return nil, &wire.RemoteError{Op: wire.OpGetXattr, Errno: syscall.ENODATA, Reason: "no such attribute (leased)"}
	}
	snap := c.cacheSnap()
	var r wire.Data
	err := c.call(ctx, wire.OpGetXattr, &wire.Xattr{C: cl, Ino: ino, Name: name}, &r)
	if isNoData(err) {
		// The kernel checked the caller's right to read the name before
		// asking (default_permissions), so the answer holds for anybody
		// whose request reaches here.
		c.rememberNoXattr(ino, name, snap)
	}
	return r.B, err
}

func (c *Client) ListXattr(ctx context.Context, cl meta.Caller, ino uint64) ([]string, error) {
	var r wire.Names
	err := c.call(ctx, wire.OpListXattr, &wire.Xattr{C: cl, Ino: ino}, &r)
	return r.Names, err
}

func (c *Client) SetXattr(ctx context.Context, cl meta.Caller, ino uint64, name string, value []byte, flags uint32) error {
	defer c.changedHere(ino)
	c.undelegate(ino)
	return c.call(ctx, wire.OpSetXattr, &wire.Xattr{C: cl, Ino: ino, Name: name, Value: value, Flags: flags}, nil)
}

func (c *Client) RemoveXattr(ctx context.Context, cl meta.Caller, ino uint64, name string) error {
	defer c.changedHere(ino)
	c.undelegate(ino)
	return c.call(ctx, wire.OpRemoveXattr, &wire.Xattr{C: cl, Ino: ino, Name: name}, nil)
}

func (c *Client) StatFS(ctx context.Context) (meta.StatFS, error) {
	var r wire.StatFSReply
	err := c.call(ctx, wire.OpStatFS, &wire.Empty{}, &r)
	return r.S, err
}

func (c *Client) Fallocate(ctx context.Context, cl meta.Caller, ino uint64, mode uint32, off, length uint64) error {
	defer c.changedHere(ino)
	return c.call(ctx, wire.OpFallocate, &wire.Fallocate{C: cl, Ino: ino, Mode: mode, Off: off, Length: length}, nil)
}

func (c *Client) Sync(ctx context.Context) error {
	return c.call(ctx, wire.OpSync, &wire.Empty{}, nil)
}
