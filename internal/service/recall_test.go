package service_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// tree is what the recall tests start from: /d with files f and g, and
// an empty directory /e.
type tree struct {
	root, d, e, f, g uint64
}

func makeTree(t *testing.T, a *peer) tree {
	t.Helper()
	d, err := a.mkdir(meta.RootIno, "d")
	a.must(err)
	e, err := a.mkdir(meta.RootIno, "e")
	a.must(err)
	f, err := a.mknod(d.Ino, "f")
	a.must(err)
	g, err := a.mknod(d.Ino, "g")
	a.must(err)
	return tree{root: meta.RootIno, d: d.Ino, e: e.Ino, f: f.Ino, g: g.Ino}
}

// holdAll has p look up every name of the tree: it holds a lease on
// each inode.
func (tr tree) holdAll(t *testing.T, p *peer) {
	t.Helper()
	for _, l := range []struct {
		parent uint64
		name   string
	}{{tr.root, "d"}, {tr.root, "e"}, {tr.d, "f"}, {tr.d, "g"}} {
		_, err := p.lookup(l.parent, l.name)
		p.must(err)
	}
}

// wantItem is what a recall must say of one inode: at least the bits of
// what, and exactly names.
type wantItem struct {
	ino   uint64
	what  uint8
	names []string
}

func checkRecall(t *testing.T, got wire.Recall, want []wantItem) {
	t.Helper()
	byIno := map[uint64]wire.RecallItem{}
	for _, it := range got.Items {
		if _, dup := byIno[it.Ino]; dup {
			t.Errorf("recall names inode %d twice: %+v", it.Ino, got.Items)
		}
		byIno[it.Ino] = it
	}
	for _, w := range want {
		it, ok := byIno[w.ino]
		if !ok {
			t.Errorf("recall does not name inode %d: %+v", w.ino, got.Items)
			continue
		}
		delete(byIno, w.ino)
		if it.What&w.what != w.what {
			t.Errorf("inode %d: what %#x, want at least %#x", w.ino, it.What, w.what)
		}
		names := slices.Sorted(slices.Values(it.Names))
		if !slices.Equal(names, w.names) {
			t.Errorf("inode %d: names %q, want %q", w.ino, names, w.names)
		}
	}
	for ino, it := range byIno {
		t.Errorf("recall names inode %d (%+v), which it should not", ino, it)
	}
}

const attr, gone = wire.ChangedAttr, wire.ChangedGone

// TestRecall has session A change what session B holds leases on: B is
// pushed a recall naming the changed inodes and names, and A's call
// returns only after B acknowledged it. A, which holds the same leases,
// is never recalled for its own changes.
func TestRecall(t *testing.T) {
	now := time.Now().UnixNano()
	tests := []struct {
		name string
		op   func(a *peer, tr tree) error
		want func(tr tree) []wantItem
	}{
		{"chmod", func(a *peer, tr tree) error {
			_, err := a.chmod(tr.f, 0o600)
			return err
		}, func(tr tree) []wantItem { return []wantItem{{tr.f, attr, nil}} }},
		{"truncate", func(a *peer, tr tree) error {
			_, err := a.attrCall(wire.OpSetAttr, &wire.SetAttr{C: meta.Root, Ino: tr.f, In: meta.SetAttrIn{Valid: meta.SetSize, Size: 12345}})
			return err
		}, func(tr tree) []wantItem { return []wantItem{{tr.f, attr, nil}} }},
		{"create", func(a *peer, tr tree) error {
			_, err := a.attrCall(wire.OpCreate, &wire.Make{C: meta.Root, Parent: tr.d, Name: "new", Mode: 0o644, Flags: syscall.O_RDWR})
			return err
		}, func(tr tree) []wantItem { return []wantItem{{tr.d, attr, []string{"new"}}} }},
		{"mkdir", func(a *peer, tr tree) error {
			_, err := a.mkdir(tr.d, "sub")
			return err
		}, func(tr tree) []wantItem { return []wantItem{{tr.d, attr, []string{"sub"}}} }},
		{"symlink", func(a *peer, tr tree) error {
			_, err := a.attrCall(wire.OpSymlink, &wire.Make{C: meta.Root, Parent: tr.e, Name: "ln", Target: "../d/f"})
			return err
		}, func(tr tree) []wantItem { return []wantItem{{tr.e, attr, []string{"ln"}}} }},
		{"link", func(a *peer, tr tree) error {
			_, err := a.attrCall(wire.OpLink, &wire.Link{C: meta.Root, Ino: tr.f, NewParent: tr.e, NewName: "f2"})
			return err
		}, func(tr tree) []wantItem { return []wantItem{{tr.e, attr, []string{"f2"}}, {tr.f, attr, nil}} }},
		{"unlink", func(a *peer, tr tree) error {
			return a.unlink(tr.d, "f")
		}, func(tr tree) []wantItem { return []wantItem{{tr.d, attr, []string{"f"}}, {tr.f, gone, nil}} }},
		{"rmdir", func(a *peer, tr tree) error {
			return a.call(wire.OpRmdir, &wire.Entry{C: meta.Root, Parent: tr.root, Name: "e"}, nil)
		}, func(tr tree) []wantItem { return []wantItem{{tr.root, attr, []string{"e"}}, {tr.e, gone, nil}} }},
		{"rename in a directory", func(a *peer, tr tree) error {
			return a.call(wire.OpRename, &wire.Rename{C: meta.Root, OldParent: tr.d, OldName: "f", NewParent: tr.d, NewName: "h"}, nil)
		}, func(tr tree) []wantItem { return []wantItem{{tr.d, attr, []string{"f", "h"}}, {tr.f, attr, nil}} }},
		{"rename over a file", func(a *peer, tr tree) error {
			return a.call(wire.OpRename, &wire.Rename{C: meta.Root, OldParent: tr.d, OldName: "f", NewParent: tr.d, NewName: "g"}, nil)
		}, func(tr tree) []wantItem {
			return []wantItem{{tr.d, attr, []string{"f", "g"}}, {tr.f, attr, nil}, {tr.g, gone, nil}}
		}},
		{"rename across directories", func(a *peer, tr tree) error {
			return a.call(wire.OpRename, &wire.Rename{C: meta.Root, OldParent: tr.d, OldName: "f", NewParent: tr.e, NewName: "f"}, nil)
		}, func(tr tree) []wantItem {
			return []wantItem{{tr.d, attr, []string{"f"}}, {tr.e, attr, []string{"f"}}, {tr.f, attr, nil}}
		}},
		{"exchange", func(a *peer, tr tree) error {
			return a.call(wire.OpRename, &wire.Rename{C: meta.Root, OldParent: tr.d, OldName: "f", NewParent: tr.root, NewName: "e", Flags: meta.RenameExchange}, nil)
		}, func(tr tree) []wantItem {
			return []wantItem{{tr.root, attr, []string{"e"}}, {tr.d, attr, []string{"f"}}, {tr.e, attr, nil}, {tr.f, attr, nil}}
		}},
		{"setxattr", func(a *peer, tr tree) error {
			return a.call(wire.OpSetXattr, &wire.Xattr{C: meta.Root, Ino: tr.f, Name: "user.k", Value: []byte("v")}, nil)
		}, func(tr tree) []wantItem { return []wantItem{{tr.f, attr, nil}} }},
		{"commit a write", func(a *peer, tr tree) error {
			if _, err := a.open(tr.f, syscall.O_WRONLY); err != nil { // a commit goes through an open file
				return err
			}
			return a.call(wire.OpCommitWrite, &wire.CommitWrite{Ino: tr.f, W: chunk.Write{Size: 1 << 20, Mtime: now}}, nil)
		}, func(tr tree) []wantItem { return []wantItem{{tr.f, attr, nil}} }},
		{"compound", func(a *peer, tr tree) error {
			c := &wire.Compound{Calls: []wire.SubCall{
				{Op: wire.OpSetAttr, Payload: wire.Append(nil, &wire.SetAttr{C: meta.Root, Ino: tr.g, In: meta.SetAttrIn{Valid: meta.SetMode, Mode: 0o640}})},
				{Op: wire.OpMkdir, Payload: wire.Append(nil, &wire.Make{C: meta.Root, Parent: tr.e, Name: "x", Mode: 0o755})},
			}}
			var r wire.CompoundReply
			if err := a.call(wire.OpCompound, c, &r); err != nil {
				return err
			}
			for i, p := range r.Replies {
				if err := wire.DecodeReply(c.Calls[i].Op, p, wire.Reply(c.Calls[i].Op)); err != nil {
					return err
				}
			}
			return nil
		}, nil}, // two recalls: checked below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 2*time.Second, 10*time.Second)
			a := e.connect(t, "A", true)
			b := e.connect(t, "B", false)
			tr := makeTree(t, a)
			tr.holdAll(t, a)
			tr.holdAll(t, b)

			done := async(func() error { return tt.op(a, tr) })
			want := [][]wantItem{nil}
			if tt.want != nil {
				want[0] = tt.want(tr)
			} else {
				want = [][]wantItem{{{tr.g, attr, nil}}, {{tr.e, attr, []string{"x"}}}}
			}
			for _, w := range want {
				r := b.nextRecall()
				checkRecall(t, r.r, w)
				stillRunning(t, done, "A's change, before B acknowledged")
				b.ack(r.id)
			}
			if err := returned(t, done, "A's change"); err != nil {
				t.Fatalf("A's change: %v", err)
			}
			a.noRecall()
			b.noRecall()
			// B's session lives on.
			_, err := b.getattr(tr.root)
			b.must(err)
		})
	}
}

// TestRecallTimeout has a holder that never acknowledges: the change
// returns after the recall timeout, and the holder's session is expired.
func TestRecallTimeout(t *testing.T) {
	const recallTimeout = 200 * time.Millisecond
	e := newEnv(t, 2*time.Second, recallTimeout)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", false)
	tr := makeTree(t, a)
	tr.holdAll(t, b)

	start := time.Now()
	done := async(func() error { _, err := a.chmod(tr.f, 0o600); return err })
	r := b.nextRecall()
	checkRecall(t, r.r, []wantItem{{tr.f, attr, nil}})
	if err := returned(t, done, "A's change"); err != nil {
		t.Fatalf("A's change: %v", err)
	}
	if elapsed := time.Since(start); elapsed < recallTimeout {
		t.Fatalf("A's change returned after %v, before the recall timeout of %v", elapsed, recallTimeout)
	}
	_, err := b.getattr(tr.f)
	var re *wire.RemoteError
	if !errors.As(err, &re) || re.Errno != syscall.ESTALE || re.Reason != "session expired" {
		t.Fatalf("B's call after it missed a recall: %v, want ESTALE session expired", err)
	}
	// B is no holder any more: the next change does not wait for it.
	if _, err := a.chmod(tr.f, 0o644); err != nil {
		t.Fatal(err)
	}
	b.noRecall()
	// A late ack of the expired session harms nothing.
	b.ack(r.id)
}

// TestRecallSeveralHolders recalls three holders at once: the change
// waits for the last acknowledgement.
func TestRecallSeveralHolders(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	a := e.connect(t, "A", true)
	tr := makeTree(t, a)
	var holders []*peer
	for i := range 3 {
		p := e.connect(t, fmt.Sprint("H", i), false)
		tr.holdAll(t, p)
		holders = append(holders, p)
	}
	done := async(func() error { return a.unlink(tr.d, "g") })
	var ids []uint64
	for _, p := range holders {
		r := p.nextRecall()
		checkRecall(t, r.r, []wantItem{{tr.d, attr, []string{"g"}}, {tr.g, gone, nil}})
		ids = append(ids, r.id)
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("one change, recall ids %v", ids)
	}
	for _, p := range holders {
		stillRunning(t, done, "the unlink, before every holder acknowledged")
		p.ack(ids[0])
	}
	if err := returned(t, done, "the unlink"); err != nil {
		t.Fatal(err)
	}
}

// TestRecallOnlyWhatIsHeld checks that a recall names only the inodes
// the holder has leases on.
func TestRecallOnlyWhatIsHeld(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)
	tr := makeTree(t, a)
	_, err := b.lookup(tr.d, "f") // d and f
	b.must(err)
	if err := a.call(wire.OpRename, &wire.Rename{C: meta.Root, OldParent: tr.d, OldName: "g", NewParent: tr.e, NewName: "g"}, nil); err != nil {
		t.Fatal(err)
	}
	checkRecall(t, b.nextRecall().r, []wantItem{{tr.d, attr, []string{"g"}}})
	b.noRecall()
}

// TestGetattrLease checks that a getattr alone leases the inode.
func TestGetattrLease(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)
	tr := makeTree(t, a)
	got, err := b.getattr(tr.g)
	b.must(err)
	if got.Ino != tr.g || got.Mode != syscall.S_IFREG|0o644 {
		t.Fatalf("getattr of g: %+v", got)
	}
	_, err = a.chmod(tr.g, 0o600)
	a.must(err)
	checkRecall(t, b.nextRecall().r, []wantItem{{tr.g, attr, nil}})
	// A failed getattr leases nothing.
	_, err = b.getattr(1 << 40)
	wantErrno(t, err, syscall.ENOENT, "getattr of no inode")
	_, err = a.chmod(tr.f, 0o600)
	a.must(err)
	b.noRecall()
}

// TestNegativeLookupLease checks that a lookup of a missing name leases
// its directory: creating the name recalls it.
func TestNegativeLookupLease(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)
	tr := makeTree(t, a)
	_, err := b.lookup(tr.e, "later")
	wantErrno(t, err, syscall.ENOENT, "lookup of a missing name")
	_, err = a.mknod(tr.e, "later")
	a.must(err)
	checkRecall(t, b.nextRecall().r, []wantItem{{tr.e, attr, []string{"later"}}})
}

// TestReadDirPlusLeases checks that readdirplus leases the directory and
// every entry it hands out.
func TestReadDirPlusLeases(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)
	tr := makeTree(t, a)
	var ents wire.DirEntries
	b.must(b.call(wire.OpReadDir, &wire.ReadDir{C: meta.Root, Ino: tr.d, Max: 100, Plus: true}, &ents))
	var names []string
	for _, en := range ents.Entries {
		names = append(names, en.Name)
	}
	if !slices.Contains(names, "f") || !slices.Contains(names, "g") {
		t.Fatalf("readdir of d: %q", names)
	}
	_, err := a.chmod(tr.g, 0o600)
	a.must(err)
	checkRecall(t, b.nextRecall().r, []wantItem{{tr.g, attr, nil}})
}

// TestForget checks that a forgotten inode is not recalled: the change
// returns at once though the former holder would never acknowledge.
func TestForget(t *testing.T) {
	e := newEnv(t, 2*time.Second, 30*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", false)
	tr := makeTree(t, a)
	tr.holdAll(t, b)
	b.must(b.call(wire.OpForget, &wire.Inos{Inos: []uint64{tr.f, tr.g}}, nil))

	done := async(func() error { _, err := a.chmod(tr.f, 0o600); return err })
	if err := returned(t, done, "a change of an inode B forgot"); err != nil {
		t.Fatal(err)
	}
	b.noRecall()
	// B still holds d.
	done = async(func() error { _, err := a.mknod(tr.d, "n"); return err })
	r := b.nextRecall()
	checkRecall(t, r.r, []wantItem{{tr.d, attr, []string{"n"}}})
	b.ack(r.id)
	if err := returned(t, done, "a change of what B holds"); err != nil {
		t.Fatal(err)
	}
}

// TestFlushWriters checks that opening a file another session has open
// for writing first asks that session to flush.
func TestFlushWriters(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	a := e.connect(t, "A", false)
	b := e.connect(t, "B", true)
	tr := makeTree(t, a)
	f, err := a.attrCall(wire.OpCreate, &wire.Make{C: meta.Root, Parent: tr.e, Name: "w", Mode: 0o644, Flags: syscall.O_WRONLY})
	a.must(err)
	_, err = b.lookup(tr.e, "w")
	b.must(err)

	done := async(func() error { _, err := b.open(f.Ino, syscall.O_RDONLY); return err })
	r := a.nextRecall()
	if len(r.r.Items) != 1 || r.r.Items[0].Ino != f.Ino || r.r.Items[0].What&wire.FlushData == 0 {
		t.Fatalf("the writer was recalled with %+v, want a flush of %d", r.r.Items, f.Ino)
	}
	stillRunning(t, done, "B's open, before the writer flushed")
	a.ack(r.id)
	if err := returned(t, done, "B's open"); err != nil {
		t.Fatal(err)
	}

	// Once the writer released the file, opens do not wait for it.
	a.must(a.call(wire.OpRelease, &wire.Ino{Ino: f.Ino}, nil))
	if _, err := b.open(f.Ino, syscall.O_RDONLY); err != nil {
		t.Fatal(err)
	}
	a.noRecall()
}

// TestReleaseUnopened checks that a release without an open is EBADF.
func TestReleaseUnopened(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	a := e.connect(t, "A", true)
	tr := makeTree(t, a)
	err := a.call(wire.OpRelease, &wire.Ino{Ino: tr.f}, nil)
	wantErrno(t, err, syscall.EBADF, "release of a file never opened")
	if !strings.Contains(err.Error(), fmt.Sprint(tr.f)) {
		t.Fatalf("release error %q does not name the inode", err)
	}
}
