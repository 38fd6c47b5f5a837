package service_test

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// Regression tests of bugs found in the service.

// TestResentCompoundRunsOnce sends a compound holding a mutation twice
// with one id: like any mutating call, it must run once.
func TestResentCompoundRunsOnce(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	rc, _, err := rawHello(t, e.addr, 0, wire.MinVersion, wire.Version)
	if err != nil {
		t.Fatal(err)
	}
	c := frame(wire.OpCompound, 9, &wire.Compound{Calls: []wire.SubCall{
		{Op: wire.OpMkdir, Payload: wire.Append(nil, &wire.Make{C: meta.Root, Parent: meta.RootIno, Name: "d", Mode: 0o755})},
	}})
	rc.write(c)
	_, p1 := rc.read()
	rc.write(c)
	_, p2 := rc.read()
	var r1, r2 wire.CompoundReply
	if err := wire.DecodeReply(wire.OpCompound, p1, &r1); err != nil {
		t.Fatal(err)
	}
	if err := wire.DecodeReply(wire.OpMkdir, r1.Replies[0], &wire.Entered{}); err != nil {
		t.Fatalf("the first mkdir: %v", err)
	}
	if err := wire.DecodeReply(wire.OpCompound, p2, &r2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p1, p2) {
		t.Fatalf("the repeated compound ran again: its mkdir answered %v", wire.DecodeReply(wire.OpMkdir, r2.Replies[0], &wire.Entered{}))
	}
}

// TestByeCompletesRecall has a recalled session say Bye instead of
// acknowledging: it holds nothing any more, so the change returns at
// once, not after the recall timeout.
func TestByeCompletesRecall(t *testing.T) {
	const recallTimeout = 10 * time.Second // twice the bound below
	e := newEnv(t, 60*time.Second, recallTimeout)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", false)
	tr := makeTree(t, a)
	tr.holdAll(t, b)
	done := async(func() error { _, err := a.chmod(tr.f, 0o600); return err })
	b.nextRecall()
	b.must(b.call(wire.OpBye, &wire.Empty{}, nil))
	if err := returned(t, done, "a change whose only recalled holder said Bye"); err != nil {
		t.Fatalf("A's change: %v", err)
	}
}

// TestTmpfileWriterFlushed checks that a file made with O_TMPFILE, which
// its maker has open for writing, is flushed by its maker before another
// session opens it.
func TestTmpfileWriterFlushed(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)
	tmp, err := a.attrCall(wire.OpTmpfile, &wire.Make{C: meta.Root, Parent: meta.RootIno, Mode: 0o644})
	a.must(err)
	_, err = a.attrCall(wire.OpLink, &wire.Link{C: meta.Root, Ino: tmp.Ino, NewParent: meta.RootIno, NewName: "t"})
	a.must(err)
	_, err = b.lookup(meta.RootIno, "t")
	b.must(err)
	done := async(func() error { _, err := b.open(tmp.Ino, syscall.O_RDONLY); return err })
	r := a.nextRecall()
	if len(r.r.Items) != 1 || r.r.Items[0].Ino != tmp.Ino || r.r.Items[0].What&wire.FlushData == 0 {
		t.Fatalf("the writer was recalled with %+v, want a flush of %d", r.r.Items, tmp.Ino)
	}
	if err := returned(t, done, "B's open"); err != nil {
		t.Fatal(err)
	}
}
