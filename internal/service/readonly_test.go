package service_test

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/service"
	"github.com/ferryfs/ferry/internal/wire"
)

// tree is what the export tests find on their volume: /d/f (a file with
// one block), /d/sub, /d/link -> f, /top (outside /d).
type exportTree struct {
	d, f, sub, link, top uint64
}

func makeExportTree(t testing.TB, fs *meta.FS) *exportTree {
	t.Helper()
	ctx := context.Background()
	var tr exportTree
	must := func(a meta.Attr, err error) uint64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a.Ino
	}
	tr.d = must(fs.Mkdir(ctx, meta.Root, 1, "d", 0o755))
	tr.f = must(fs.Create(ctx, meta.Root, tr.d, "f", syscall.S_IFREG|0o644, syscall.O_RDWR))
	first, err := fs.NewObjectIDs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := chunk.Write{Blocks: []chunk.Block{{Index: 0, Pieces: []chunk.Piece{{Obj: first, Off: 0, Len: 5}}}}, Size: 5, Mtime: 1}
	if err := fs.CommitWrite(ctx, tr.f, w); err != nil {
		t.Fatal(err)
	}
	if err := fs.Release(ctx, tr.f); err != nil {
		t.Fatal(err)
	}
	tr.sub = must(fs.Mkdir(ctx, meta.Root, tr.d, "sub", 0o755))
	tr.link = must(fs.Symlink(ctx, meta.Root, tr.d, "link", "f"))
	tr.top = must(fs.Create(ctx, meta.Root, 1, "top", syscall.S_IFREG|0o600, syscall.O_RDWR))
	if err := fs.Release(ctx, tr.top); err != nil {
		t.Fatal(err)
	}
	return &tr
}

func exportEnv(t testing.TB, ex service.Export) (*env, *exportTree) {
	var tr *exportTree
	e := newEnvWith(t, service.Options{LeasePeriod: 10 * time.Second, RecallTimeout: time.Second, Export: ex},
		func(fs *meta.FS) { tr = makeExportTree(t, fs) })
	return e, tr
}

// checkVolume runs meta's consistency check.
func checkVolume(t testing.TB, fs *meta.FS) {
	t.Helper()
	rep, err := fs.Check(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("volume inconsistent: %+v", rep)
	}
}

func TestReadOnlyRefusesEveryChange(t *testing.T) {
	e, tr := exportEnv(t, service.Export{ReadOnly: true})
	p := e.connect(t, "ro", true)
	c := meta.Root
	before, err := e.fs.GetAttr(context.Background(), tr.f)
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		op  wire.Op
		req wire.Message
	}
	calls := []call{
		{wire.OpSetAttr, &wire.SetAttr{C: c, Ino: tr.f, In: meta.SetAttrIn{Valid: meta.SetSize}}},
		{wire.OpMknod, &wire.Make{C: c, Parent: tr.d, Name: "n", Mode: syscall.S_IFIFO | 0o644}},
		{wire.OpMkdir, &wire.Make{C: c, Parent: tr.d, Name: "m", Mode: 0o755}},
		{wire.OpCreate, &wire.Make{C: c, Parent: tr.d, Name: "c", Mode: syscall.S_IFREG | 0o644, Flags: syscall.O_RDWR}},
		{wire.OpTmpfile, &wire.Make{C: c, Parent: tr.d, Mode: syscall.S_IFREG | 0o644, Flags: syscall.O_RDWR}},
		{wire.OpSymlink, &wire.Make{C: c, Parent: tr.d, Name: "s", Target: "f"}},
		{wire.OpLink, &wire.Link{C: c, Ino: tr.f, NewParent: tr.d, NewName: "l"}},
		{wire.OpUnlink, &wire.Entry{C: c, Parent: tr.d, Name: "f"}},
		{wire.OpRmdir, &wire.Entry{C: c, Parent: tr.d, Name: "sub"}},
		{wire.OpRename, &wire.Rename{C: c, OldParent: tr.d, OldName: "f", NewParent: tr.d, NewName: "g"}},
		{wire.OpSetXattr, &wire.Xattr{C: c, Ino: tr.f, Name: "user.a", Value: []byte("v")}},
		{wire.OpRemoveXattr, &wire.Xattr{C: c, Ino: tr.f, Name: "user.a"}},
		{wire.OpFallocate, &wire.Fallocate{C: c, Ino: tr.f, Off: 0, Length: 4096}},
		{wire.OpNewObjectIDs, &wire.U64{V: 1}},
		{wire.OpCommitWrite, &wire.CommitWrite{Ino: tr.f, W: chunk.Write{Size: 1 << 20, Mtime: 2}}},
		{wire.OpBlobPut, &wire.BlobPut{Key: chunk.ObjectKey(1 << 40), Data: []byte("x")}},
		{wire.OpBlobDelete, &wire.BlobPut{Key: chunk.ObjectKey(1)}},
		{wire.OpOpen, &wire.InoOp{C: c, Ino: tr.f, N: syscall.O_WRONLY}},
		{wire.OpOpen, &wire.InoOp{C: c, Ino: tr.f, N: syscall.O_RDWR}},
		{wire.OpOpen, &wire.InoOp{C: c, Ino: tr.f, N: syscall.O_RDONLY | syscall.O_TRUNC}},
		{wire.OpAccess, &wire.InoOp{C: c, Ino: tr.f, N: 2}},
		{wire.OpDelegate, &wire.Delegate{Dir: tr.d, Want: 16}},
		{wire.OpCreateAs, &wire.MakeAs{Make: wire.Make{C: c, Parent: tr.d, Name: "a", Mode: syscall.S_IFREG | 0o644}, Ino: 1 << 40}},
		{wire.OpCreateBatch, &wire.CreateBatch{Items: []wire.MakeAs{{Make: wire.Make{C: c, Parent: tr.d, Name: "b", Mode: syscall.S_IFREG | 0o644}, Ino: 1<<40 + 1, Closed: true}}}},
	}
	covered := map[wire.Op]bool{}
	for _, cl := range calls {
		covered[cl.op] = true
		err := p.call(cl.op, cl.req, nil)
		wantErrno(t, err, syscall.EROFS, cl.op.String())
	}
	// Every op is either tried above or changes nothing: an op added
	// to the protocol must be put in one list or the other.
	for _, op := range wire.Ops() {
		if !covered[op] && !slices.Contains(readOnlySafe, op) {
			t.Errorf("%v is neither tried read-only nor known to change nothing", op)
		}
	}
	// A compound holds no back door.
	sub := wire.SubCall{Op: wire.OpMkdir, Payload: wire.Append(nil, &wire.Make{C: c, Parent: tr.d, Name: "cm", Mode: 0o755})}
	var cr wire.CompoundReply
	p.must(p.call(wire.OpCompound, &wire.Compound{Calls: []wire.SubCall{sub}}, &cr))
	if err := wire.DecodeReply(wire.OpMkdir, cr.Replies[0], wire.Reply(wire.OpMkdir)); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("mkdir in a compound: %v, want EROFS", err)
	}

	// Reading works, and a read's atime update is a no-op.
	if _, err := p.open(tr.f, syscall.O_RDONLY); err != nil {
		t.Fatal(err)
	}
	var changed wire.Bool
	p.must(p.call(wire.OpAccessed, &wire.Ino{Ino: tr.f}, &changed))
	p.must(p.call(wire.OpGetLayout, &wire.GetLayout{Ino: tr.f, Count: 1}, nil))
	p.must(p.call(wire.OpRelease, &wire.Ino{Ino: tr.f}, nil))
	var des wire.DirEntries
	p.must(p.call(wire.OpReadDir, &wire.ReadDir{C: c, Ino: tr.d, Max: 100, Plus: true}, &des))
	if len(des.Entries) != 3 {
		t.Errorf("listing of a read-only export: %d entries, want 3", len(des.Entries))
	}
	after, err := e.fs.GetAttr(context.Background(), tr.f)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("a read-only export changed a file: %+v, was %+v", after, before)
	}
	checkVolume(t, e.fs)
}

// readOnlySafe are the ops that change nothing of the volume (Open and
// Access unless asked to write; Release, Hold and Accessed touch only
// counts and atimes, which a read-only export keeps as they are).
var readOnlySafe = []wire.Op{wire.OpHello, wire.OpHeartbeat, wire.OpForget, wire.OpRecallAck, wire.OpCompound,
	wire.OpRecall, wire.OpBye, wire.OpReclaimed, wire.OpLookup, wire.OpGetAttr, wire.OpReadlink, wire.OpRelease,
	wire.OpAccessed, wire.OpHold, wire.OpReadDir, wire.OpGetXattr, wire.OpListXattr, wire.OpStatFS, wire.OpSync,
	wire.OpGetLayout, wire.OpBlobGet, wire.OpBlobList, wire.OpBlobSync,
	// Locks coordinate readers too (a shared lock on a read-only
	// database); they change no file.
	wire.OpGetLk, wire.OpSetLk, wire.OpLocksChanged}

func TestHostileFields(t *testing.T) {
	e, tr := exportEnv(t, service.Export{})
	p := e.connect(t, "p", true)
	c := meta.Root
	long := strings.Repeat("n", 256)
	for _, tc := range []struct {
		what string
		op   wire.Op
		req  wire.Message
		want syscall.Errno
	}{
		{"slash", wire.OpMkdir, &wire.Make{C: c, Parent: tr.d, Name: "a/b", Mode: 0o755}, syscall.EINVAL},
		{"nul", wire.OpMknod, &wire.Make{C: c, Parent: tr.d, Name: "a\x00b", Mode: syscall.S_IFREG}, syscall.EINVAL},
		{"dot", wire.OpMkdir, &wire.Make{C: c, Parent: tr.d, Name: ".", Mode: 0o755}, syscall.EINVAL},
		{"dotdot", wire.OpCreate, &wire.Make{C: c, Parent: tr.d, Name: "..", Mode: syscall.S_IFREG}, syscall.EINVAL},
		{"empty", wire.OpSymlink, &wire.Make{C: c, Parent: tr.d, Name: "", Target: "x"}, syscall.EINVAL},
		{"long", wire.OpMkdir, &wire.Make{C: c, Parent: tr.d, Name: long, Mode: 0o755}, syscall.ENAMETOOLONG},
		{"link dotdot", wire.OpLink, &wire.Link{C: c, Ino: tr.f, NewParent: tr.d, NewName: ".."}, syscall.EINVAL},
		{"rename to slash", wire.OpRename, &wire.Rename{C: c, OldParent: tr.d, OldName: "f", NewParent: tr.d, NewName: "x/y"}, syscall.EINVAL},
		{"unlink dot", wire.OpUnlink, &wire.Entry{C: c, Parent: tr.d, Name: "."}, syscall.EINVAL},
		{"symlink target nul", wire.OpSymlink, &wire.Make{C: c, Parent: tr.d, Name: "s", Target: "a\x00"}, syscall.EINVAL},
		{"tmpfile with a name", wire.OpTmpfile, &wire.Make{C: c, Parent: tr.d, Name: "x", Mode: syscall.S_IFREG}, syscall.EINVAL},
		{"xattr name nul", wire.OpSetXattr, &wire.Xattr{C: c, Ino: tr.f, Name: "user.\x00"}, syscall.EINVAL},
		{"negative size", wire.OpSetAttr, &wire.SetAttr{C: c, Ino: tr.f, In: meta.SetAttrIn{Valid: meta.SetSize, Size: 1 << 63}}, syscall.EINVAL},
		{"fallocate overflow", wire.OpFallocate, &wire.Fallocate{C: c, Ino: tr.f, Off: 1 << 62, Length: 1 << 62}, syscall.EFBIG},
		{"fallocate negative", wire.OpFallocate, &wire.Fallocate{C: c, Ino: tr.f, Off: 1 << 63, Length: 1}, syscall.EINVAL},
		{"fallocate empty", wire.OpFallocate, &wire.Fallocate{C: c, Ino: tr.f, Length: 0}, syscall.EINVAL},
		{"layout beyond", wire.OpGetLayout, &wire.GetLayout{Ino: tr.f, First: 1 << 63, Count: 1}, syscall.EINVAL},
	} {
		wantErrno(t, p.call(tc.op, tc.req, nil), tc.want, tc.what)
	}
	// A commit beyond the largest file, through an open file.
	if _, err := p.open(tr.f, syscall.O_RDWR); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, p.call(wire.OpCommitWrite, &wire.CommitWrite{Ino: tr.f, W: chunk.Write{Size: 1 << 63}}, nil), syscall.EFBIG, "commit size")
	big := chunk.Write{Blocks: []chunk.Block{{Index: 1 << 62}}, Size: 1}
	wantErrno(t, p.call(wire.OpCommitWrite, &wire.CommitWrite{Ino: tr.f, W: big}, nil), syscall.EFBIG, "commit block index")
	checkVolume(t, e.fs)
}
