package meta

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"syscall"
	"testing"
)

func ue(tag uint16, perm uint16, id uint32) aclEntry { return aclEntry{Tag: tag, Perm: perm, ID: id} }

// aclBytes encodes entries as an attribute value, ids as given.
func aclBytes(es ...aclEntry) []byte { return acl(es).encode() }

const none = aclUndefinedID

// minimalACL is u::rw-, g::r--, o::r--.
var minimalACL = []aclEntry{ue(aclUserObj, 6, none), ue(aclGroupObj, 4, none), ue(aclOther, 4, none)}

func TestACLFormat(t *testing.T) {
	named := []aclEntry{ue(aclUserObj, 7, none), ue(aclUser, 6, 1234), ue(aclUser, 4, 1235),
		ue(aclGroupObj, 5, none), ue(aclGroup, 1, 50), ue(aclMask, 7, none), ue(aclOther, 0, none)}
	swap := func(es []aclEntry, i, j int) []aclEntry {
		es = slices.Clone(es)
		es[i], es[j] = es[j], es[i]
		return es
	}
	with := func(es []aclEntry, i int, e aclEntry) []aclEntry {
		es = slices.Clone(es)
		es[i] = e
		return es
	}
	badVersion := aclBytes(minimalACL...)
	binary.LittleEndian.PutUint32(badVersion, 1)
	for _, tc := range []struct {
		name string
		b    []byte
		want syscall.Errno
	}{
		{"minimal", aclBytes(minimalACL...), 0},
		{"named users and groups with a mask", aclBytes(named...), 0},
		{"mask without named entries", aclBytes(ue(aclUserObj, 7, none), ue(aclGroupObj, 5, none), ue(aclMask, 5, none), ue(aclOther, 0, none)), 0},
		{"short header", []byte{2, 0}, syscall.EINVAL},
		{"partial entry", append(aclBytes(minimalACL...), 1, 2, 3), syscall.EINVAL},
		{"version 1", badVersion, syscall.EOPNOTSUPP},
		{"named user without a mask", aclBytes(ue(aclUserObj, 7, none), ue(aclUser, 7, 1), ue(aclGroupObj, 5, none), ue(aclOther, 0, none)), syscall.EINVAL},
		{"no owner entry", aclBytes(minimalACL[1:]...), syscall.EINVAL},
		{"no other entry", aclBytes(minimalACL[:2]...), syscall.EINVAL},
		{"owner twice", aclBytes(append([]aclEntry{minimalACL[0]}, minimalACL...)...), syscall.EINVAL},
		{"group before owner", aclBytes(swap(minimalACL, 0, 1)...), syscall.EINVAL},
		{"named user after the group", aclBytes(swap(named, 2, 3)...), syscall.EINVAL},
		{"mask after other", aclBytes(swap(named, 5, 6)...), syscall.EINVAL},
		{"permission bit 8", aclBytes(with(minimalACL, 2, ue(aclOther, 8, none))...), syscall.EINVAL},
		{"unknown tag", aclBytes(with(named, 4, ue(0x40, 1, 50))...), syscall.EINVAL},
		{"entries after other", aclBytes(append(slices.Clone(minimalACL), ue(aclOther, 0, none))...), syscall.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := decodeACL(tc.b)
			if got := Errno(err); err != nil && got != tc.want || err == nil && tc.want != 0 {
				t.Fatalf("decode: %v, want %v", err, tc.want)
			}
			if err == nil && !bytes.Equal(a.encode(), tc.b) {
				t.Fatalf("encode of decode: %x, want %x", a.encode(), tc.b)
			}
		})
	}

	// A header alone is no ACL: setting it removes one.
	if a, err := decodeACL(aclBytes()); a != nil || err != nil {
		t.Fatalf("empty ACL: %v %v", a, err)
	}
	// Ids of entries that name nobody are normalized.
	odd := aclBytes(ue(aclUserObj, 6, 7), ue(aclGroupObj, 4, 8), ue(aclOther, 4, 9))
	if a, err := decodeACL(odd); err != nil || !bytes.Equal(a.encode(), aclBytes(minimalACL...)) {
		t.Fatalf("ids of unnamed entries kept: %v %v", a, err)
	}
}

func TestACLPermit(t *testing.T) {
	n := &inode{Attr: Attr{Ino: 9, Mode: syscall.S_IFREG | 0o640, UID: 10, GID: 20}}
	a := acl{ue(aclUserObj, 6, none), ue(aclUser, 7, 11), ue(aclUser, 0, 12), ue(aclGroupObj, 4, none),
		ue(aclGroup, 6, 30), ue(aclMask, 6, none), ue(aclOther, 1, none)}
	for _, tc := range []struct {
		name string
		c    Caller
		mask uint32
		ok   bool
	}{
		{"owner by the owner entry", Caller{UID: 10, GID: 99}, mayRead | mayWrite, true},
		{"owner lacks x", Caller{UID: 10}, mayExec, false},
		{"named user within the mask", Caller{UID: 11, GID: 99}, mayRead | mayWrite, true},
		{"named user beyond the mask", Caller{UID: 11, GID: 99}, mayExec, false},
		{"named user with nothing, though other would grant x", Caller{UID: 12, GID: 99}, mayExec, false},
		{"owning group", Caller{UID: 13, GID: 20}, mayRead, true},
		{"owning group cannot write", Caller{UID: 13, GID: 20}, mayWrite, false},
		{"named group writes", Caller{UID: 13, GID: 99, Groups: []uint32{30}}, mayWrite, true},
		{"in both groups, one grants", Caller{UID: 13, GID: 20, Groups: []uint32{30}}, mayRead | mayWrite, true},
		{"in a group: other does not apply", Caller{UID: 13, GID: 20}, mayExec, false},
		{"other", Caller{UID: 14, GID: 99}, mayExec, true},
		{"other cannot read", Caller{UID: 14, GID: 99}, mayRead, false},
	} {
		err := a.permit(tc.c, n, tc.mask)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestACLModeArithmetic(t *testing.T) {
	a := acl{ue(aclUserObj, 7, none), ue(aclUser, 7, 5), ue(aclGroupObj, 5, none), ue(aclMask, 7, none), ue(aclOther, 5, none)}
	if m, equiv := a.modeBits(); m != 0o775 || equiv {
		t.Fatalf("mode bits %o equiv %v", m, equiv)
	}
	a.chmod(0o640)
	want := acl{ue(aclUserObj, 6, none), ue(aclUser, 7, 5), ue(aclGroupObj, 5, none), ue(aclMask, 4, none), ue(aclOther, 0, none)}
	if !slices.Equal(a, want) {
		t.Fatalf("chmod 640: %v, want %v", a, want)
	}
	b := acl(slices.Clone(minimalACL))
	b.chmod(0o751)
	if m, equiv := b.modeBits(); m != 0o751 || !equiv {
		t.Fatalf("chmod of a minimal ACL: %o %v", m, equiv)
	}
	// Inheriting: entries lose what the mode lacks and the mode what the
	// entries lack; set-id bits stay.
	d := acl{ue(aclUserObj, 7, none), ue(aclUser, 7, 5), ue(aclGroupObj, 5, none), ue(aclMask, 7, none), ue(aclOther, 0, none)}
	mode, equiv := d.inherit(syscall.S_IFREG | syscall.S_ISGID | 0o666)
	if mode != syscall.S_IFREG|syscall.S_ISGID|0o660 || equiv {
		t.Fatalf("inherit: mode %o equiv %v", mode, equiv)
	}
	want = acl{ue(aclUserObj, 6, none), ue(aclUser, 7, 5), ue(aclGroupObj, 5, none), ue(aclMask, 6, none), ue(aclOther, 0, none)}
	if !slices.Equal(d, want) {
		t.Fatalf("inherited %v, want %v", d, want)
	}
}

// getACL returns the decoded ACL name of ino, or nil if there is none.
func getACL(t *testing.T, fs *FS, ino uint64, name string) acl {
	t.Helper()
	v, err := fs.GetXattr(context.Background(), Root, ino, name)
	if Errno(err) == syscall.ENODATA {
		return nil
	}
	if err != nil {
		t.Fatalf("getxattr %s: %v", name, err)
	}
	a, err := decodeACL(v)
	if err != nil {
		t.Fatalf("stored %s: %v", name, err)
	}
	return a
}

func TestACLSetKeepsModeInStep(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	owner := Caller{UID: 1000, GID: 1000}
	d := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "d", 0o777))
	f := must[Attr](t)(fs.Create(ctx, owner, d.Ino, "f", syscall.S_ISGID|0o644, syscall.O_RDWR))
	wantMode := func(what string, ino uint64, mode uint32) {
		t.Helper()
		if a := must[Attr](t)(fs.GetAttr(ctx, ino)); a.Mode&0o7777 != mode {
			t.Fatalf("%s: mode %o, want %o", what, a.Mode&0o7777, mode)
		}
	}

	named := aclBytes(ue(aclUserObj, 6, none), ue(aclUser, 6, 1234), ue(aclGroupObj, 4, none), ue(aclMask, 6, none), ue(aclOther, 0, none))
	must[struct{}](t)(struct{}{}, fs.SetXattr(ctx, owner, f.Ino, ACLAccess, named, 0))
	wantMode("named ACL", f.Ino, syscall.S_ISGID|0o660)
	if a := getACL(t, fs, f.Ino, ACLAccess); !bytes.Equal(a.encode(), named) {
		t.Fatalf("stored %v", a)
	}

	// An ACL the mode can say is not stored; the one before is dropped.
	must[struct{}](t)(struct{}{}, fs.SetXattr(ctx, owner, f.Ino, ACLAccess, aclBytes(ue(aclUserObj, 7, none), ue(aclGroupObj, 5, none), ue(aclOther, 1, none)), 0))
	wantMode("minimal ACL", f.Ino, syscall.S_ISGID|0o751)
	if a := getACL(t, fs, f.Ino, ACLAccess); a != nil {
		t.Fatalf("an ACL equivalent to the mode was stored: %v", a)
	}

	// Set by a caller outside the file's group, it clears setgid.
	must[struct{}](t)(struct{}{}, fs.SetXattr(ctx, Caller{UID: 1000, GID: 5}, f.Ino, ACLAccess, named, 0))
	wantMode("ACL set from outside the group", f.Ino, 0o660)

	wantErrno(t, fs.SetXattr(ctx, Caller{UID: 1001, GID: 1000}, f.Ino, ACLAccess, named, 0), syscall.EPERM)
	wantErrno(t, fs.SetXattr(ctx, owner, f.Ino, ACLAccess, named[:10], 0), syscall.EINVAL)
	wantErrno(t, fs.SetXattr(ctx, owner, f.Ino, ACLDefault, named, 0), syscall.EACCES)
	sl := must[Attr](t)(fs.Symlink(ctx, owner, d.Ino, "l", "f"))
	wantErrno(t, fs.SetXattr(ctx, owner, sl.Ino, ACLAccess, named, 0), syscall.EOPNOTSUPP)

	// An empty ACL removes; removing the access ACL leaves the mode.
	must[struct{}](t)(struct{}{}, fs.SetXattr(ctx, Root, d.Ino, ACLDefault, named, 0))
	if getACL(t, fs, d.Ino, ACLDefault) == nil {
		t.Fatal("default ACL not stored")
	}
	must[struct{}](t)(struct{}{}, fs.SetXattr(ctx, Root, d.Ino, ACLDefault, aclBytes(), 0))
	if a := getACL(t, fs, d.Ino, ACLDefault); a != nil {
		t.Fatalf("empty default ACL did not remove it: %v", a)
	}
	must[struct{}](t)(struct{}{}, fs.RemoveXattr(ctx, owner, f.Ino, ACLAccess))
	wantMode("access ACL removed", f.Ino, 0o660)
	names := must[[]string](t)(fs.ListXattr(ctx, Root, f.Ino))
	if slices.Contains(names, ACLAccess) {
		t.Fatalf("listxattr after removal: %v", names)
	}
}

func TestACLInheritance(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	d := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "d", 0o755))
	def := aclBytes(ue(aclUserObj, 7, none), ue(aclUser, 7, 1234), ue(aclGroupObj, 5, none), ue(aclMask, 7, none), ue(aclOther, 5, none))
	must[struct{}](t)(struct{}{}, fs.SetXattr(ctx, Root, d.Ino, ACLDefault, def, 0))
	uctx := WithUmask(ctx, 0o077) // ignored under a default ACL

	f := must[Attr](t)(fs.Create(uctx, Root, d.Ino, "f", 0o644, syscall.O_RDWR))
	if f.Mode != syscall.S_IFREG|0o644 {
		t.Fatalf("file mode %o, want 644 (mask from the group bits)", f.Mode)
	}
	wantACL := acl{ue(aclUserObj, 6, none), ue(aclUser, 7, 1234), ue(aclGroupObj, 5, none), ue(aclMask, 4, none), ue(aclOther, 4, none)}
	if a := getACL(t, fs, f.Ino, ACLAccess); !slices.Equal(a, wantACL) {
		t.Fatalf("file access ACL %v, want %v", a, wantACL)
	}
	if a := getACL(t, fs, f.Ino, ACLDefault); a != nil {
		t.Fatalf("a file inherited a default ACL: %v", a)
	}

	sub := must[Attr](t)(fs.Mkdir(uctx, Root, d.Ino, "sub", 0o777))
	if sub.Mode != syscall.S_IFDIR|0o775 {
		t.Fatalf("directory mode %o, want 775", sub.Mode)
	}
	if a := getACL(t, fs, sub.Ino, ACLDefault); !bytes.Equal(a.encode(), def) {
		t.Fatalf("directory default ACL %v", a)
	}
	if a := getACL(t, fs, sub.Ino, ACLAccess); a == nil || a[a.find(aclMask)].Perm != 7 {
		t.Fatalf("directory access ACL %v", a)
	}

	tmp := must[Attr](t)(fs.Tmpfile(uctx, Root, d.Ino, 0o600))
	if tmp.Mode != syscall.S_IFREG|0o600 || getACL(t, fs, tmp.Ino, ACLAccess) == nil {
		t.Fatalf("tmpfile mode %o or no access ACL", tmp.Mode)
	}
	fifo := must[Attr](t)(fs.Mknod(uctx, Root, d.Ino, "p", syscall.S_IFIFO|0o666, 0))
	if fifo.Mode != syscall.S_IFIFO|0o664 || getACL(t, fs, fifo.Ino, ACLAccess) == nil {
		t.Fatalf("fifo mode %o or no access ACL", fifo.Mode)
	}
	sl := must[Attr](t)(fs.Symlink(uctx, Root, d.Ino, "l", "f"))
	if sl.Mode != syscall.S_IFLNK|0o777 || getACL(t, fs, sl.Ino, ACLAccess) != nil {
		t.Fatalf("symlink mode %o or an ACL on it", sl.Mode)
	}

	// A default ACL of owner, group and other only gives modes, no ACLs.
	must[struct{}](t)(struct{}{}, fs.SetXattr(ctx, Root, d.Ino, ACLDefault, aclBytes(ue(aclUserObj, 7, none), ue(aclGroupObj, 0, none), ue(aclOther, 0, none)), 0))
	g := must[Attr](t)(fs.Create(uctx, Root, d.Ino, "g", 0o666, syscall.O_RDWR))
	if g.Mode != syscall.S_IFREG|0o600 || getACL(t, fs, g.Ino, ACLAccess) != nil {
		t.Fatalf("mode %o from a minimal default ACL, or an ACL stored", g.Mode)
	}

	// Without a default ACL the umask applies; without one passed, none.
	h := must[Attr](t)(fs.Create(uctx, Root, RootIno, "h", 0o666, syscall.O_RDWR))
	e := must[Attr](t)(fs.Mkdir(uctx, Root, RootIno, "e", 0o777))
	k := must[Attr](t)(fs.Create(ctx, Root, RootIno, "k", 0o666, syscall.O_RDWR))
	if h.Mode&0o777 != 0o600 || e.Mode&0o777 != 0o700 || k.Mode&0o777 != 0o666 {
		t.Fatalf("modes %o %o %o, want 600 700 666", h.Mode&0o777, e.Mode&0o777, k.Mode&0o777)
	}
	if UmaskFrom(uctx) != 0o077 || UmaskFrom(ctx) != 0 {
		t.Fatal("umask not carried by the context")
	}
}

func TestACLChmodAndPermit(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	owner := Caller{UID: 1000, GID: 1000}
	named := Caller{UID: 1234, GID: 1234}
	d := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "d", 0o750))
	must[Attr](t)(fs.SetAttr(ctx, Root, d.Ino, SetAttrIn{Valid: SetUID | SetGID, UID: owner.UID, GID: owner.GID}))
	must[struct{}](t)(struct{}{}, fs.SetXattr(ctx, owner, d.Ino, ACLAccess,
		aclBytes(ue(aclUserObj, 7, none), ue(aclUser, 7, 1234), ue(aclGroupObj, 5, none), ue(aclMask, 7, none), ue(aclOther, 0, none)), 0))

	// The mode alone would refuse the named user; the ACL lets it make
	// files here and use their user attributes.
	f := must[Attr](t)(fs.Create(ctx, named, d.Ino, "f", 0o600, syscall.O_RDWR))
	_, err := fs.Create(ctx, Caller{UID: 1235, GID: 1235}, d.Ino, "g", 0o600, syscall.O_RDWR)
	wantErrno(t, err, syscall.EACCES)
	must[struct{}](t)(struct{}{}, fs.SetXattr(ctx, owner, d.Ino, "user.x", []byte("1"), 0))
	must[[]byte](t)(fs.GetXattr(ctx, named, d.Ino, "user.x"))
	_, err = fs.GetXattr(ctx, Caller{UID: 1235, GID: 1235}, d.Ino, "user.x")
	wantErrno(t, err, syscall.EACCES)
	if f.UID != 1234 {
		t.Fatalf("file owner %d", f.UID)
	}

	// chmod rewrites the owner, mask and other entries.
	err = fs.update(ctx, func(t *tx) error {
		n, err := t.inode(d.Ino)
		if err != nil {
			return err
		}
		n.Mode = n.fileType() | 0o705
		t.putInode(n)
		return t.chmodACL(n)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := acl{ue(aclUserObj, 7, none), ue(aclUser, 7, 1234), ue(aclGroupObj, 5, none), ue(aclMask, 0, none), ue(aclOther, 5, none)}
	if a := getACL(t, fs, d.Ino, ACLAccess); !slices.Equal(a, want) {
		t.Fatalf("after chmod 705: %v, want %v", a, want)
	}
	_, err = fs.Create(ctx, named, d.Ino, "h", 0o600, syscall.O_RDWR)
	wantErrno(t, err, syscall.EACCES)
}
