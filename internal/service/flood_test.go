package service_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/service"
	"github.com/ferryfs/ferry/internal/wire"
)

// closedByService fails unless the service closed rc.
func closedByService(t *testing.T, what string, rc *rawConn) {
	t.Helper()
	rc.c.SetDeadline(time.Now().Add(wait))
	for {
		_, _, err := wire.ReadFrame(rc.c, 0)
		if err == nil {
			continue // replies and pushes sent before the bad frame
		}
		if err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("connection after a bad frame (%s): %v, want it closed", what, err)
		}
		return
	}
}

func TestMalformedFramesCloseOneSession(t *testing.T) {
	e, tr := exportEnv(t, service.Export{})
	other := e.connect(t, "other", true)

	bad := map[string][]byte{
		"unknown kind":        wire.AppendFrame(nil, wire.Header{Kind: 9, Op: wire.OpGetAttr, ID: 2}, nil),
		"reply from a client": wire.AppendFrame(nil, wire.Header{Kind: wire.KindReply, Op: wire.OpGetAttr, ID: 2}, nil),
		"second hello": wire.AppendFrame(nil, wire.Header{Kind: wire.KindCall, Op: wire.OpHello, ID: 2},
			wire.Append(nil, &wire.Hello{MinVersion: wire.MinVersion, MaxVersion: wire.Version})),
		"short length": append(binary.LittleEndian.AppendUint32(nil, 3), make([]byte, 12)...),
		"oversized":    append(binary.LittleEndian.AppendUint32(nil, wire.MaxFrame+1), make([]byte, 12)...),
	}
	for what, b := range bad {
		rc, _, err := rawHello(t, e.addr, 0, wire.MinVersion, wire.Version)
		if err != nil {
			t.Fatal(err)
		}
		rc.write(b)
		closedByService(t, what, rc)
		if _, err := other.getattr(tr.f); err != nil {
			t.Fatalf("after %s on another session: %v", what, err)
		}
	}

	// A well-framed call whose payload is garbage is one failed call.
	rc, _, err := rawHello(t, e.addr, 0, wire.MinVersion, wire.Version)
	if err != nil {
		t.Fatal(err)
	}
	rc.write(wire.AppendFrame(nil, wire.Header{Kind: wire.KindCall, Op: wire.OpMkdir, ID: 2}, []byte{1, 2, 3}))
	h, p := rc.read()
	if err := wire.DecodeReply(h.Op, p, wire.Reply(wire.OpMkdir)); err == nil {
		t.Fatal("mkdir of garbage answered without error")
	}
	rc.send(wire.Header{Kind: wire.KindCall, Op: wire.OpGetAttr, ID: 3}, &wire.Ino{Ino: tr.f})
	h, p = rc.read()
	if err := wire.DecodeReply(h.Op, p, wire.Reply(wire.OpGetAttr)); err != nil {
		t.Fatalf("call after a garbage payload: %v", err)
	}
}

// A session that floods the service with calls and reads no reply holds
// only itself back: another session completes its work meanwhile.
func TestFloodFromOneSession(t *testing.T) {
	e, tr := exportEnv(t, service.Export{})
	rc, _, err := rawHello(t, e.addr, 0, wire.MinVersion, wire.Version)
	if err != nil {
		t.Fatal(err)
	}
	rc.c.SetDeadline(time.Now().Add(30 * time.Second))
	flooded := make(chan int, 1)
	go func() {
		// Bounded: 20000 small calls, then 200 calls of 1 MiB each; the
		// writes stop as soon as the service stops reading.
		n := 0
		defer func() { flooded <- n }()
		for i := range 20000 {
			if _, err := rc.c.Write(frame(wire.OpGetAttr, uint64(10+i), &wire.Ino{Ino: tr.f})); err != nil {
				return
			}
			n++
		}
		big := make([]byte, 1<<20)
		for i := range 200 {
			put := &wire.BlobPut{Key: chunk.ObjectKey(uint64(1<<40 + i)), Data: big}
			if _, err := rc.c.Write(frame(wire.OpBlobPut, uint64(30000+i), put)); err != nil {
				return
			}
			n++
		}
	}()

	p := e.connect(t, "worker", true)
	d, err := p.mkdir(1, "work")
	p.must(err)
	for i := range 100 {
		name := fmt.Sprintf("f%d", i)
		a, err := p.mknod(d.Ino, name)
		p.must(err)
		if _, err := p.getattr(a.Ino); err != nil {
			t.Fatalf("getattr %d during a flood: %v", i, err)
		}
		p.must(p.call(wire.OpReadDir, &wire.ReadDir{C: meta.Root, Ino: d.Ino, Max: 16}, nil))
	}
	rc.c.Close()
	t.Logf("flooding session wrote %d calls before the service stopped reading or it was done", <-flooded)
	checkVolume(t, e.fs)
}

// A compound of many reads is answered within a frame: the calls past
// its bound are refused, not run.
func TestCompoundReplyBounded(t *testing.T) {
	e, _ := exportEnv(t, service.Export{})
	p := e.connect(t, "p", true)
	var first wire.U64
	p.must(p.call(wire.OpNewObjectIDs, &wire.U64{V: 1}, &first))
	key := chunk.ObjectKey(first.V)
	p.must(p.call(wire.OpBlobPut, &wire.BlobPut{Key: key, Data: make([]byte, 4<<20)}, nil))
	get := wire.SubCall{Op: wire.OpBlobGet, Payload: wire.Append(nil, &wire.BlobGet{Key: key, Length: -1})}
	var c wire.Compound
	for range 20 { // 80 MiB of replies: more than a frame
		c.Calls = append(c.Calls, get)
	}
	var cr wire.CompoundReply
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // 64 MiB moved under -race
	defer cancel()
	p.must(p.cl.Call(ctx, wire.OpCompound, &c, &cr))
	if err := wire.DecodeReply(wire.OpBlobGet, cr.Replies[0], wire.Reply(wire.OpBlobGet)); err != nil {
		t.Fatalf("the first read: %v", err)
	}
	last := wire.DecodeReply(wire.OpBlobGet, cr.Replies[len(cr.Replies)-1], wire.Reply(wire.OpBlobGet))
	wantErrno(t, last, syscall.E2BIG, "the last read of an oversized compound")
}
