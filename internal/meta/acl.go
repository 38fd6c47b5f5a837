package meta

import (
	"context"
	"encoding/binary"
	"syscall"
)

// POSIX access control lists, as Linux keeps them: two extended
// attributes in the binary form of the kernel's posix_acl_xattr (a
// version-2 header, then 8-byte entries of tag, permissions and id, all
// little-endian), and the mode's permission bits kept in step with them.
//
//   - system.posix_acl_access: set, it is validated and stored, and the
//     mode takes its owner, mask (or owning group) and other permissions;
//     an ACL that says no more than a mode is not stored at all. chmod
//     rewrites the stored ACL's owner, mask (or owning group) and other
//     entries (chmodACL).
//   - system.posix_acl_default (directories only): a new inode in the
//     directory gets the default ACL, masked by the mode it was created
//     with, as its access ACL, and a new directory also inherits it as its
//     own default; the caller's umask is then not applied. Without a
//     default ACL the umask is applied here (WithUmask), because a kernel
//     that handles ACLs leaves that to the file system.
//
// The kernel checks permissions with these ACLs itself (FUSE
// default_permissions); permit is the second check meta makes.

// ACL attribute names.
const (
	ACLAccess  = "system.posix_acl_access"
	ACLDefault = "system.posix_acl_default"
)

// Entry tags and the id of entries that name nobody, as in
// <linux/posix_acl.h>.
const (
	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20

	aclUndefinedID = ^uint32(0)
	aclVersion     = 2
	aclHeaderLen   = 4
	aclEntryLen    = 8
	aclMaxEntries  = (xattrSizeMax - aclHeaderLen) / aclEntryLen
)

type aclEntry struct {
	Tag  uint16
	Perm uint16 // r=4, w=2, x=1
	ID   uint32 // uid or gid of aclUser and aclGroup entries
}

// acl is a list of entries in the order the kernel requires (see valid).
type acl []aclEntry

// decodeACL parses and validates the attribute value b. A header without
// entries is a nil ACL: setting it removes the ACL, as on Linux. A wrong
// version is EOPNOTSUPP, any other defect EINVAL (as Linux answers).
func decodeACL(b []byte) (acl, error) {
	if len(b) < aclHeaderLen || (len(b)-aclHeaderLen)%aclEntryLen != 0 {
		return nil, errInval
	}
	le := binary.LittleEndian
	if le.Uint32(b) != aclVersion {
		return nil, syscall.EOPNOTSUPP
	}
	n := (len(b) - aclHeaderLen) / aclEntryLen
	if n == 0 {
		return nil, nil
	}
	a := make(acl, n)
	for i := range a {
		e := b[aclHeaderLen+i*aclEntryLen:]
		a[i] = aclEntry{Tag: le.Uint16(e), Perm: le.Uint16(e[2:]), ID: le.Uint32(e[4:])}
		if a[i].Tag != aclUser && a[i].Tag != aclGroup {
			a[i].ID = aclUndefinedID
		}
	}
	if err := a.valid(); err != nil {
		return nil, err
	}
	return a, nil
}

// encode returns the attribute value of a.
func (a acl) encode() []byte {
	b := make([]byte, aclHeaderLen, aclHeaderLen+len(a)*aclEntryLen)
	binary.LittleEndian.PutUint32(b, aclVersion)
	for _, e := range a {
		b = binary.LittleEndian.AppendUint16(b, e.Tag)
		b = binary.LittleEndian.AppendUint16(b, e.Perm)
		b = binary.LittleEndian.AppendUint32(b, e.ID)
	}
	return b
}

// valid checks what the kernel checks of an ACL: permissions are rwx
// only; exactly one owner, owning-group and other entry; named users
// after the owner, named groups after the owning group; a mask, required
// when anything is named, between the groups and other.
func (a acl) valid() error {
	if len(a) > aclMaxEntries {
		return errInval
	}
	const (
		wantUserObj = iota
		inUsers
		inGroups
		wantOther
		done
	)
	state, named := wantUserObj, false
	for _, e := range a {
		if e.Perm&^7 != 0 {
			return errInval
		}
		switch {
		case e.Tag == aclUserObj && state == wantUserObj:
			state = inUsers
		case e.Tag == aclUser && state == inUsers:
			named = true
		case e.Tag == aclGroupObj && state == inUsers:
			state = inGroups
		case e.Tag == aclGroup && state == inGroups:
			named = true
		case e.Tag == aclMask && state == inGroups:
			state = wantOther
		case e.Tag == aclOther && (state == wantOther || state == inGroups && !named):
			state = done
		default:
			return errInval
		}
	}
	if state != done {
		return errInval
	}
	return nil
}

func (a acl) clone() acl { return append(acl(nil), a...) }

// find returns the index of the first entry with tag, or -1.
func (a acl) find(tag uint16) int {
	for i, e := range a {
		if e.Tag == tag {
			return i
		}
	}
	return -1
}

// groupClass is the index of the entry the mode's group bits stand for:
// the mask if there is one, else the owning group.
func (a acl) groupClass() int {
	if i := a.find(aclMask); i >= 0 {
		return i
	}
	return a.find(aclGroupObj)
}

// modeBits returns the permission bits (0o777) a gives the mode, and
// whether a says no more than they do (owner, owning group and other
// entries only): such an ACL is not stored.
func (a acl) modeBits() (mode uint32, equiv bool) {
	equiv = true
	for _, e := range a {
		switch e.Tag {
		case aclUserObj:
			mode |= uint32(e.Perm) << 6
		case aclOther:
			mode |= uint32(e.Perm)
		case aclUser, aclGroup, aclMask:
			equiv = false
		}
	}
	mode |= uint32(a[a.groupClass()].Perm) << 3
	return mode, equiv
}

// chmod sets the owner, group-class and other entries from the
// permission bits of mode, as chmod(2) does to an access ACL.
func (a acl) chmod(mode uint32) {
	for i := range a {
		switch a[i].Tag {
		case aclUserObj:
			a[i].Perm = uint16(mode>>6) & 7
		case aclOther:
			a[i].Perm = uint16(mode) & 7
		}
	}
	a[a.groupClass()].Perm = uint16(mode>>3) & 7
}

// inherit turns a (a copy of a default ACL) into the access ACL of a new
// inode created with mode: the owner, group-class and other entries lose
// what mode lacks, and mode loses what they lack. It returns the new
// mode and whether the ACL is equivalent to it (then it is not stored).
func (a acl) inherit(mode uint32) (uint32, bool) {
	classes := [...]struct {
		entry int
		shift uint
	}{{a.find(aclUserObj), 6}, {a.groupClass(), 3}, {a.find(aclOther), 0}}
	for _, cl := range classes {
		e := &a[cl.entry]
		e.Perm &= uint16(mode>>cl.shift) & 7
		mode &^= (7 &^ uint32(e.Perm)) << cl.shift
	}
	_, equiv := a.modeBits()
	return mode, equiv
}

// permit reports whether c (not the superuser) may access n for mask by
// the ACL a, as the kernel decides: the owner by the owner entry; a named
// user by its entry and the mask; a caller in the owning or a named group
// by any such entry that grants it all of mask, and the mask; everybody
// else by the other entry.
func (a acl) permit(c Caller, n *inode, mask uint32) error {
	want := uint16(mask & 7)
	maskPerm := uint16(7)
	if i := a.find(aclMask); i >= 0 {
		maskPerm = a[i].Perm
	}
	grants := func(p uint16) bool { return p&want == want }
	inGroup := false
	for _, e := range a {
		switch e.Tag {
		case aclUserObj:
			if c.UID == n.UID {
				return permErr(grants(e.Perm))
			}
		case aclUser:
			if c.UID == e.ID {
				return permErr(grants(e.Perm & maskPerm))
			}
		case aclGroupObj, aclGroup:
			gid := e.ID
			if e.Tag == aclGroupObj {
				gid = n.GID
			}
			if c.InGroup(gid) {
				inGroup = true
				if grants(e.Perm) {
					return permErr(grants(e.Perm & maskPerm))
				}
			}
		case aclOther:
			if inGroup {
				return errAcces
			}
			return permErr(grants(e.Perm))
		}
	}
	return errAcces
}

func permErr(ok bool) error {
	if ok {
		return nil
	}
	return errAcces
}

// acl reads the ACL called name of ino; ok is false if there is none.
func (r reader) acl(ino uint64, name string) (a acl, ok bool, err error) {
	p, ok, err := r.get(xattrKey(ino, name))
	if err != nil || !ok {
		return nil, false, err
	}
	a, err = decodeACL(p)
	if err != nil || a == nil {
		r.fs.corrupt(xattrKey(ino, name))
		return nil, false, errCorrupt
	}
	return a, true, nil
}

// permit is access with the access ACL of n: where the mode bits deny a
// caller other than the owner and the superuser, an ACL may grant. Where
// the mode grants, the ACL is not read; the kernel, which checks first,
// applies ACL entries that deny.
func (r reader) permit(c Caller, n *inode, mask uint32) error {
	err := access(c, n, mask)
	if err == nil || c.UID == 0 || c.UID == n.UID || n.Mode&0o070 == 0 || n.fileType() == syscall.S_IFLNK ||
		n.Flags&inodeXattrs == 0 {
		return err
	}
	a, ok, rerr := r.acl(n.Ino, ACLAccess)
	if rerr != nil {
		return rerr
	}
	if !ok {
		return err
	}
	return a.permit(c, n, mask)
}

// setACL stores (or, for an empty value, removes) the ACL called name on
// n, validated, and keeps n's mode in step with an access ACL. The caller
// has checked that c may (the owner or the superuser).
func (t *tx) setACL(c Caller, n *inode, name string, value []byte) error {
	if n.fileType() == syscall.S_IFLNK {
		return syscall.EOPNOTSUPP
	}
	a, err := decodeACL(value)
	if err != nil {
		return err
	}
	switch name {
	case ACLAccess:
		if a != nil {
			mode, equiv := a.modeBits()
			n.Mode = n.Mode&^0o777 | mode
			if c.UID != 0 && !c.InGroup(n.GID) {
				n.Mode &^= syscall.S_ISGID
			}
			if equiv {
				a = nil
			}
		}
	case ACLDefault:
		if !n.isDir() && a != nil {
			return errAcces
		}
	}
	key := xattrKey(n.Ino, name)
	if a == nil {
		t.t.Delete(key)
	} else {
		t.put(key, a.encode())
		n.Flags |= inodeXattrs
	}
	n.Ctime = t.now
	t.putInode(n)
	return nil
}

// chmodACL brings the stored access ACL of n, if any, in step with n's
// new mode; SetAttr calls it after it changed the mode.
func (t *tx) chmodACL(n *inode) error {
	if n.fileType() == syscall.S_IFLNK || n.Flags&inodeXattrs == 0 {
		return nil
	}
	a, ok, err := t.acl(n.Ino, ACLAccess)
	if err != nil || !ok {
		return err
	}
	a.chmod(n.Mode)
	t.put(xattrKey(n.Ino, ACLAccess), a.encode())
	return nil
}

// inheritACL sets up the ACLs and mode of n, new in directory p, before n
// is stored: from p's default ACL if it has one, or else by applying the
// caller's umask. Symbolic links take neither.
func (t *tx) inheritACL(p, n *inode, umask uint32) error {
	if n.fileType() == syscall.S_IFLNK {
		return nil
	}
	var def acl
	ok := false
	if p.Flags&inodeXattrs != 0 { // only then can it have a default ACL
		var err error
		if def, ok, err = t.acl(p.Ino, ACLDefault); err != nil {
			return err
		}
	}
	if !ok {
		n.Mode &^= umask & 0o777
		return nil
	}
	n.Flags |= inodeXattrs
	access := def.clone()
	mode, equiv := access.inherit(n.Mode)
	n.Mode = mode
	if !equiv {
		t.put(xattrKey(n.Ino, ACLAccess), access.encode())
	}
	if n.isDir() {
		t.put(xattrKey(n.Ino, ACLDefault), def.encode())
	}
	return nil
}

type umaskKey struct{}

// WithUmask returns ctx carrying the umask of the calling process, for
// the operations that create inodes (Create, Mknod, Mkdir, Tmpfile). It
// is applied to the new inode's mode unless the parent directory has a
// default ACL. Without it no umask is applied: the mode is taken as
// given, as from a caller that applied the umask itself.
func WithUmask(ctx context.Context, umask uint32) context.Context {
	return context.WithValue(ctx, umaskKey{}, umask&0o777)
}

// UmaskFrom returns the umask ctx carries (WithUmask), or 0.
func UmaskFrom(ctx context.Context) uint32 {
	u, _ := ctx.Value(umaskKey{}).(uint32)
	return u
}
