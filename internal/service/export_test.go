package service_test

import (
	"context"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/service"
	"github.com/ferryfs/ferry/internal/wire"
)

func TestSubdirExportNoEscape(t *testing.T) {
	e, tr := exportEnv(t, service.Export{Root: "/d"})
	p := e.connect(t, "sub", true)
	c := meta.Root

	root, err := p.getattr(1)
	p.must(err)
	if root.Ino != 1 || !root.IsDir() {
		t.Fatalf("export root: %+v, want inode 1, a directory", root)
	}
	up, err := p.lookup(1, "..")
	p.must(err)
	if up.Ino != 1 {
		t.Errorf(`".." of the export's root: inode %d, want 1`, up.Ino)
	}
	sub, err := p.lookup(1, "sub")
	p.must(err)
	if up, err := p.lookup(sub.Ino, ".."); err != nil || up.Ino != 1 {
		t.Errorf(`".." of sub: %+v %v, want inode 1`, up, err)
	}
	f, err := p.lookup(1, "f")
	p.must(err)
	if f.Ino != tr.f {
		t.Errorf("f: inode %d, want %d", f.Ino, tr.f)
	}
	var des wire.DirEntries
	p.must(p.call(wire.OpReadDir, &wire.ReadDir{C: c, Ino: 1, Max: 100, Plus: true}, &des))
	for _, de := range des.Entries {
		if de.Ino == tr.d || de.Attr != nil && de.Attr.Ino == tr.d {
			t.Errorf("listing shows the export's volume inode %d", tr.d)
		}
	}
	var entered wire.Entered
	p.must(p.call(wire.OpMkdir, &wire.Make{C: c, Parent: 1, Name: "new", Mode: 0o755}, &entered))
	if entered.Parent.Ino != 1 {
		t.Errorf("mkdir in the root: parent shown as %d, want 1", entered.Parent.Ino)
	}

	// A symlink pointing out is a string; resolving it is the client's.
	var tgt wire.Text
	p.must(p.call(wire.OpReadlink, &wire.Ino{Ino: tr.link}, &tgt))
	p.must(p.call(wire.OpSymlink, &wire.Make{C: c, Parent: 1, Name: "out", Target: "../top"}, nil))
	_, err = p.lookup(1, "top")
	wantErrno(t, err, syscall.ENOENT, "top through the export's root")

	// Guessed inode numbers of the volume: the real root, its file, the
	// export's own number is no way out either.
	for _, tc := range []struct {
		what string
		op   wire.Op
		req  wire.Message
	}{
		{"getattr of an outside file", wire.OpGetAttr, &wire.Ino{Ino: tr.top}},
		{"open of an outside file", wire.OpOpen, &wire.InoOp{C: c, Ino: tr.top}},
		{"readlink of a guess", wire.OpReadlink, &wire.Ino{Ino: tr.top}},
		{"setattr of an outside file", wire.OpSetAttr, &wire.SetAttr{C: c, Ino: tr.top, In: meta.SetAttrIn{Valid: meta.SetMode, Mode: 0o777}}},
		{"xattr of an outside file", wire.OpListXattr, &wire.Xattr{C: c, Ino: tr.top}},
		{"link an outside file in", wire.OpLink, &wire.Link{C: c, Ino: tr.top, NewParent: 1, NewName: "stolen"}},
		{"layout of an outside file", wire.OpGetLayout, &wire.GetLayout{Ino: tr.top, Count: 1}},
		{"hold of an outside file", wire.OpHold, &wire.Ino{Ino: tr.top}},
		{"access", wire.OpAccess, &wire.InoOp{C: c, Ino: tr.top}},
		{"fallocate", wire.OpFallocate, &wire.Fallocate{C: c, Ino: tr.top, Length: 1}},
		{"lock of an outside file", wire.OpSetLk, &wire.Lk{Ino: tr.top, Owner: 1, End: 9, Type: wire.LockWrite}},
		{"lock test of an outside file", wire.OpGetLk, &wire.Lk{Ino: tr.top, Owner: 1, End: 9, Type: wire.LockWrite}},
		{"delegation of an outside directory", wire.OpDelegate, &wire.Delegate{Dir: tr.top, Want: 16}},
		{"create in an outside directory", wire.OpCreateAs, &wire.MakeAs{Make: wire.Make{C: c, Parent: tr.top, Name: "x", Mode: syscall.S_IFREG | 0o644}, Ino: 1 << 40}},
		{"batch into an outside directory", wire.OpCreateBatch, &wire.CreateBatch{Items: []wire.MakeAs{{Make: wire.Make{C: c, Parent: tr.top, Name: "y", Mode: syscall.S_IFREG | 0o644}, Ino: 1<<40 + 1, Closed: true}}}},
		{"an unused number", wire.OpGetAttr, &wire.Ino{Ino: 1 << 50}},
	} {
		wantErrno(t, p.call(tc.op, tc.req, nil), syscall.ESTALE, tc.what)
	}
	// The volume's root is reached by no number: 1 is the export's.
	if a, err := p.lookup(1, "top"); err == nil {
		t.Errorf("lookup of /top from the export: %+v", a)
	}
	wantErrno(t, p.call(wire.OpRename, &wire.Rename{C: c, OldParent: 1, OldName: "f", NewParent: tr.top, NewName: "f"}, nil), syscall.ESTALE, "rename out")
	wantErrno(t, p.call(wire.OpBlobList, &wire.BlobList{Max: 10}, nil), syscall.EACCES, "object listing")

	// A directory moved out while the client holds it stays its own, with
	// no way up from it.
	ctx := context.Background()
	if err := e.fs.Rename(ctx, meta.Root, tr.d, "sub", 1, "moved", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.getattr(sub.Ino); err != nil {
		t.Errorf("held directory moved out: %v", err)
	}
	_, err = p.lookup(sub.Ino, "..")
	wantErrno(t, err, syscall.ESTALE, `".." of a directory moved out`)
	// A file moved out (here: its one name, by a client of the whole
	// volume) stays the holder's, as an open descriptor would.
	if err := e.fs.Rename(ctx, meta.Root, tr.d, "f", 1, "f-moved", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.getattr(f.Ino); err != nil {
		t.Errorf("held file moved out: %v", err)
	}
	// Neither is anything to a session it was never handed to.
	q := e.connect(t, "other", true)
	_, err = q.getattr(sub.Ino)
	wantErrno(t, err, syscall.ESTALE, "directory moved out, to a session it was never handed")
	_, err = q.getattr(f.Ino)
	wantErrno(t, err, syscall.ESTALE, "file moved out, to a session it was never handed")
	// A hard link from outside into the export makes the file reachable
	// by its new name, and only so.
	a, err := e.fs.Link(ctx, meta.Root, tr.f, tr.d, "back")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := q.lookup(1, "back"); err != nil || got.Ino != a.Ino {
		t.Errorf("lookup of a name linked into the export: %+v %v", got, err)
	}
	if _, err := q.getattr(f.Ino); err != nil {
		t.Errorf("file handed through its new name: %v", err)
	}
	checkVolume(t, e.fs)
}

// Recalls name the export's root as its clients know it: inode 1.
func TestSubdirExportRecallsRoot(t *testing.T) {
	e, _ := exportEnv(t, service.Export{Root: "/d"})
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", false)
	if _, err := b.getattr(1); err != nil {
		t.Fatal(err)
	}
	done := async(func() error { _, err := a.mkdir(1, "x"); return err })
	r := b.nextRecall()
	if len(r.r.Items) != 1 || r.r.Items[0].Ino != 1 {
		t.Errorf("recall of the export's root: %+v, want inode 1", r.r.Items)
	}
	b.ack(r.id)
	if err := returned(t, done, "mkdir"); err != nil {
		t.Fatal(err)
	}
}

func TestExportDirectoryMissing(t *testing.T) {
	for _, root := range []string{"/nope", "/top", "/d/../d"} {
		opts := service.Options{Export: service.Export{Root: root}}
		svc := service.New(opts)
		e := newEnvWith(t, service.Options{}, nil)
		if err := svc.Attach(context.Background(), e.fs); err == nil {
			svc.Close()
			t.Errorf("export %q attached", root)
		}
	}
}

func TestIdentityMapped(t *testing.T) {
	ids := service.IDMap{Squash: true, AnonUID: service.DefaultAnonID, AnonGID: service.DefaultAnonID,
		UIDs: map[uint32]uint32{1000: 2000}, GIDs: map[uint32]uint32{100: 200}}
	e, tr := exportEnv(t, service.Export{IDs: ids})
	p := e.connect(t, "ids", true)
	ctx := context.Background()
	root := meta.Caller{UID: 0, GID: 0}
	user := meta.Caller{UID: 1000, GID: 100}

	var made wire.Entered
	// d is 0755 root: a squashed root cannot write in it.
	err := p.call(wire.OpMkdir, &wire.Make{C: root, Parent: tr.d, Name: "byroot", Mode: 0o777}, nil)
	wantErrno(t, err, syscall.EACCES, "mkdir by a squashed root")
	if _, err := e.fs.SetAttr(ctx, meta.Root, tr.d, meta.SetAttrIn{Valid: meta.SetMode, Mode: 0o777}); err != nil {
		t.Fatal(err)
	}
	p.must(p.call(wire.OpMkdir, &wire.Make{C: root, Parent: tr.d, Name: "byroot", Mode: 0o755}, &made))
	if made.Attr.UID != service.DefaultAnonID || made.Attr.GID != service.DefaultAnonID {
		t.Errorf("made by a squashed root: owner %d:%d shown, want the anonymous ids", made.Attr.UID, made.Attr.GID)
	}
	p.must(p.call(wire.OpMkdir, &wire.Make{C: user, Parent: tr.d, Name: "byuser", Mode: 0o755}, &made))
	if made.Attr.UID != 1000 || made.Attr.GID != 100 {
		t.Errorf("made by a mapped user: owner %d:%d shown, want 1000:100", made.Attr.UID, made.Attr.GID)
	}
	stored, err := e.fs.GetAttr(ctx, made.Attr.Ino)
	if err != nil {
		t.Fatal(err)
	}
	if stored.UID != 2000 || stored.GID != 200 {
		t.Errorf("made by a mapped user: stored owner %d:%d, want 2000:200", stored.UID, stored.GID)
	}
	// A delegated client would answer creates with the owner its kernel
	// gave, unmapped: no delegation where identities are mapped.
	err = p.call(wire.OpDelegate, &wire.Delegate{Dir: made.Attr.Ino, Want: 16}, nil)
	wantErrno(t, err, syscall.EOPNOTSUPP, "delegation with mapped identities")
	// top is 0600 root: the squashed root reads nothing of it.
	_, err = p.attrCall(wire.OpOpen, &wire.InoOp{C: root, Ino: tr.top, N: syscall.O_RDONLY})
	wantErrno(t, err, syscall.EACCES, "open of a 0600 root file by a squashed root")
	// A chown by a squashed root is a chown by nobody.
	err = p.call(wire.OpSetAttr, &wire.SetAttr{C: root, Ino: tr.f, In: meta.SetAttrIn{Valid: meta.SetUID, UID: 0}}, nil)
	wantErrno(t, err, syscall.EPERM, "chown by a squashed root")
	// A file stored as 1000 (another user of the volume) is not the
	// mapped client 1000's.
	if _, err := e.fs.SetAttr(ctx, meta.Root, tr.top, meta.SetAttrIn{Valid: meta.SetUID, UID: 1000}); err != nil {
		t.Fatal(err)
	}
	_, err = p.attrCall(wire.OpOpen, &wire.InoOp{C: user, Ino: tr.top, N: syscall.O_RDONLY})
	wantErrno(t, err, syscall.EACCES, "open of stored uid 1000's 0600 file by client uid 1000 (stored 2000)")
}

func TestForeignAndStaleHandles(t *testing.T) {
	e, tr := exportEnv(t, service.Export{})
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)

	// A opens f and reads its layout; B, which did not open it, cannot.
	if _, err := a.open(tr.f, syscall.O_RDWR); err != nil {
		t.Fatal(err)
	}
	var bl wire.Blocks
	a.must(a.call(wire.OpGetLayout, &wire.GetLayout{Ino: tr.f, Count: 1}, &bl))
	if len(bl.Blocks) != 1 || len(bl.Blocks[0].Pieces) != 1 {
		t.Fatalf("layout of f: %+v", bl.Blocks)
	}
	obj := bl.Blocks[0].Pieces[0].Obj
	wantErrno(t, b.call(wire.OpGetLayout, &wire.GetLayout{Ino: tr.f, Count: 1}, nil), syscall.EBADF, "layout without an open")
	wantErrno(t, b.call(wire.OpCommitWrite, &wire.CommitWrite{Ino: tr.f, W: chunk.Write{Size: 1, Mtime: 3}}, nil), syscall.EBADF, "commit without an open")
	wantErrno(t, b.call(wire.OpRelease, &wire.Ino{Ino: tr.f}, nil), syscall.EBADF, "release of another session's open")
	trunc := meta.SetAttrIn{Valid: meta.SetSize | meta.SetFromHandle}
	wantErrno(t, b.call(wire.OpSetAttr, &wire.SetAttr{C: meta.Caller{UID: 1}, Ino: tr.f, In: trunc}, nil), syscall.EBADF, "ftruncate without an open")
	wantErrno(t, b.call(wire.OpFallocate, &wire.Fallocate{C: meta.Caller{UID: 1}, Ino: tr.f, Mode: 0x03, Length: 5}, nil), syscall.EBADF, "hole punched without an open")
	// Objects: B may neither read, overwrite nor delete A's.
	key := chunk.ObjectKey(obj)
	wantErrno(t, b.call(wire.OpBlobGet, &wire.BlobGet{Key: key, Length: -1}, nil), syscall.EACCES, "read of a foreign object")
	wantErrno(t, b.call(wire.OpBlobPut, &wire.BlobPut{Key: key, Data: []byte("evil")}, nil), syscall.EACCES, "overwrite of a foreign object")
	wantErrno(t, b.call(wire.OpBlobDelete, &wire.BlobPut{Key: key}, nil), syscall.EACCES, "delete of a foreign object")
	wantErrno(t, b.call(wire.OpBlobGet, &wire.BlobGet{Key: "volume.json", Length: -1}, nil), syscall.EACCES, "read of a key not a file object")
	// A hold is no open: it gives no layout.
	b.must(b.call(wire.OpHold, &wire.Ino{Ino: tr.top}, nil))
	wantErrno(t, b.call(wire.OpGetLayout, &wire.GetLayout{Ino: tr.top, Count: 1}, nil), syscall.EBADF, "layout through a hold")
	// A read-only open commits nothing; a commit of a foreign object
	// into one's own file is refused.
	if _, err := b.open(tr.top, syscall.O_RDONLY); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, b.call(wire.OpCommitWrite, &wire.CommitWrite{Ino: tr.top, W: chunk.Write{Size: 1, Mtime: 3}}, nil), syscall.EBADF, "commit through a read-only open")
	if _, err := b.open(tr.top, syscall.O_RDWR); err != nil {
		t.Fatal(err)
	}
	steal := chunk.Write{Blocks: []chunk.Block{{Pieces: []chunk.Piece{{Obj: obj, Len: 5}}}}, Size: 5, Mtime: 3}
	wantErrno(t, b.call(wire.OpCommitWrite, &wire.CommitWrite{Ino: tr.top, W: steal}, nil), syscall.EACCES, "commit of a foreign object")
	// B's own objects are its to put, read and commit.
	var first wire.U64
	b.must(b.call(wire.OpNewObjectIDs, &wire.U64{V: 2}, &first))
	b.must(b.call(wire.OpBlobPut, &wire.BlobPut{Key: chunk.ObjectKey(first.V), Data: []byte("hello")}, nil))
	b.must(b.call(wire.OpBlobGet, &wire.BlobGet{Key: chunk.ObjectKey(first.V), Length: -1}, nil))
	own := chunk.Write{Blocks: []chunk.Block{{Pieces: []chunk.Piece{{Obj: first.V, Len: 5}}}}, Size: 5, Mtime: 3}
	b.must(b.call(wire.OpCommitWrite, &wire.CommitWrite{Ino: tr.top, W: own}, nil))

	// A's object is readable by A; after A let go of f (released, then
	// forgotten), neither its layout nor its object is.
	// (the test's volume has no bytes for it: the store says so)
	wantErrno(t, a.call(wire.OpBlobGet, &wire.BlobGet{Key: key, Length: -1}, nil), syscall.ENOENT, "A's own object")
	a.must(a.call(wire.OpRelease, &wire.Ino{Ino: tr.f}, nil))
	wantErrno(t, a.call(wire.OpGetLayout, &wire.GetLayout{Ino: tr.f, Count: 1}, nil), syscall.EBADF, "layout after release")
	wantErrno(t, a.call(wire.OpRelease, &wire.Ino{Ino: tr.f}, nil), syscall.EBADF, "second release")
	a.must(a.call(wire.OpForget, &wire.Inos{Inos: []uint64{tr.f}}, nil))
	wantErrno(t, a.call(wire.OpBlobGet, &wire.BlobGet{Key: key, Length: -1}, nil), syscall.EACCES, "object after forget")
	// A caller of another session's open: B's open of top does not let
	// A write top.
	wantErrno(t, a.call(wire.OpCommitWrite, &wire.CommitWrite{Ino: tr.top, W: own}, nil), syscall.EBADF, "commit through another session's open")
	checkVolume(t, e.fs)
}

// A layout asked of a removed file says it is gone, open or not (a
// client whose writes failed asks so).
func TestLayoutOfRemovedFile(t *testing.T) {
	e, tr := exportEnv(t, service.Export{})
	p := e.connect(t, "p", true)
	p.must(p.unlink(tr.d, "f"))
	wantErrno(t, p.call(wire.OpGetLayout, &wire.GetLayout{Ino: tr.f, Count: 1}, nil), syscall.ENOENT, "layout of a removed file")
}
