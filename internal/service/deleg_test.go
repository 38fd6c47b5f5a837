package service_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

func (p *peer) delegate(dir uint64) (wire.Delegation, error) {
	var r wire.Delegation
	err := p.call(wire.OpDelegate, &wire.Delegate{Dir: dir, Want: 8}, &r)
	return r, err
}

func (p *peer) createAs(dir, ino uint64, name string) error {
	return p.call(wire.OpCreateAs, &wire.MakeAs{
		Make: wire.Make{C: meta.Root, Parent: dir, Name: name, Mode: 0o644, Flags: syscall.O_WRONLY},
		Ino:  ino, Time: time.Now().UnixNano(),
	}, nil)
}

// TestDelegation: a directory's delegation goes to the only client that
// holds it; another client's look at it waits until the holder
// acknowledged the recall (once its creates were answered), then sees
// them; the delegation is then gone.
func TestDelegation(t *testing.T) {
	e := newEnv(t, 10*time.Second, 5*time.Second)
	a := e.connect(t, "a", false)
	b := e.connect(t, "b", true)
	d, err := a.mkdir(meta.RootIno, "d")
	a.must(err)
	shared, err := a.mkdir(meta.RootIno, "shared")
	a.must(err)
	_, err = b.lookup(meta.RootIno, "shared")
	b.must(err)
	_, err = a.delegate(shared.Ino)
	wantErrno(t, err, syscall.EBUSY, "delegation of a directory another client holds")

	g, err := a.delegate(d.Ino)
	a.must(err)
	if g.N != 8 || g.Dir.Ino != d.Ino || g.Dir.Mode != d.Mode {
		t.Fatalf("delegation %+v of %+v", g, d)
	}
	a.must(a.createAs(d.Ino, g.First, "f"))
	err = a.createAs(d.Ino, g.First, "f2")
	wantErrno(t, err, syscall.EEXIST, "a create with a used inode number")

	// b's lookup in d waits for a's acknowledgement.
	looked := async(func() error { _, err := b.lookup(d.Ino, "f"); return err })
	r := a.nextRecall()
	if len(r.r.Items) != 1 || r.r.Items[0].Ino != d.Ino || r.r.Items[0].What != wire.ReturnDelegation {
		t.Fatalf("recall %+v, want the delegation of %d", r.r.Items, d.Ino)
	}
	stillRunning(t, looked, "b's lookup")
	a.ack(r.id)
	if err := returned(t, looked, "b's lookup"); err != nil {
		t.Fatalf("b's lookup of a's file: %v", err)
	}
	// b holds d now: a's next delegation request is refused, and a's
	// changes in d recall b.
	_, err = a.delegate(d.Ino)
	wantErrno(t, err, syscall.EBUSY, "a delegation of a directory b holds")
	a.noRecall()
}

// TestDelegationRecalledByHandout: a read that hands out a delegated
// directory (a lookup of it in its parent) recalls the delegation first
// and answers with the directory as it is after the holder's creates.
func TestDelegationRecalledByHandout(t *testing.T) {
	e := newEnv(t, 10*time.Second, 5*time.Second)
	a := e.connect(t, "a", true)
	b := e.connect(t, "b", true)
	d, err := a.mkdir(meta.RootIno, "d")
	a.must(err)
	g, err := a.delegate(d.Ino)
	a.must(err)
	a.must(a.createAs(d.Ino, g.First, "f"))
	got, err := b.lookup(meta.RootIno, "d")
	b.must(err)
	r := a.nextRecall()
	if r.r.Items[0].What != wire.ReturnDelegation {
		t.Fatalf("recall %+v, want the delegation", r.r.Items)
	}
	now, err := a.getattr(d.Ino)
	a.must(err)
	if got != now {
		t.Fatalf("b was handed %+v, the directory is %+v", got, now)
	}
}

// TestDelegationExpiry: a holder that does not acknowledge is expired at
// the recall timeout, and the other client's call goes on.
func TestDelegationExpiry(t *testing.T) {
	e := newEnv(t, 10*time.Second, 300*time.Millisecond)
	a := e.connect(t, "a", false)
	b := e.connect(t, "b", true)
	d, err := a.mkdir(meta.RootIno, "d")
	a.must(err)
	_, err = a.delegate(d.Ino)
	a.must(err)
	_, err = b.getattr(d.Ino)
	b.must(err)
	a.nextRecall()
}

// TestCreateBatch: closed creates made in one call, each answered; a
// number used twice is refused without stopping the others.
func TestCreateBatch(t *testing.T) {
	e := newEnv(t, 10*time.Second, 5*time.Second)
	a := e.connect(t, "a", true)
	b := e.connect(t, "b", true)
	d, err := a.mkdir(meta.RootIno, "d")
	a.must(err)
	g, err := a.delegate(d.Ino)
	a.must(err)
	now := time.Now().UnixNano()
	item := func(ino uint64, name string) wire.MakeAs {
		return wire.MakeAs{Make: wire.Make{C: meta.Root, Parent: d.Ino, Name: name, Mode: 0o644}, Ino: ino, Time: now, Closed: true}
	}
	var r wire.BatchReply
	a.must(a.call(wire.OpCreateBatch, &wire.CreateBatch{Items: []wire.MakeAs{
		item(g.First, "x"), item(g.First, "again"), item(g.First+1, "y"), item(g.First+2, "x"),
	}}, &r))
	want := []uint32{0, uint32(syscall.EEXIST), 0, uint32(syscall.EEXIST)}
	for i := range want {
		if r.Errnos[i] != want[i] {
			t.Fatalf("item %d: errno %d (%s), want %d", i, r.Errnos[i], r.Reasons[i], want[i])
		}
	}
	for _, name := range []string{"x", "y"} {
		got, err := b.lookup(d.Ino, name)
		b.must(err)
		if got.Mtime != now {
			t.Fatalf("%s: %+v, made at %d", name, got, now)
		}
	}
	_, err = b.lookup(d.Ino, "again")
	wantErrno(t, err, syscall.ENOENT, "lookup of a refused item")
}
