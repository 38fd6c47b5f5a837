package service

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/blob/memblob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/kv/memkv"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// FuzzDispatch feeds calls made of random bytes to a real service over
// the in-memory store, through a subdirectory export with a mapped
// identity (so every guard runs), and checks that nothing panics and the
// volume stays consistent. An input is a sequence of calls: an op index
// (one byte), a payload length (two bytes) and the payload.
func FuzzDispatch(f *testing.F) {
	for _, seed := range dispatchSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fx.Lock()
		defer fx.Unlock()
		fix := dispatchFixture(t)
		// A call that does not return is a finding too: say where it is.
		hung := time.AfterFunc(hangAfter, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("calls still running after %v:\n%s", hangAfter, buf[:runtime.Stack(buf, true)]))
		})
		defer hung.Stop()
		ops := wire.Ops()
		ctx := context.Background()
		for id := uint64(1); len(in) >= 3; id++ {
			op := ops[int(in[0])%len(ops)]
			n := min(int(binary.LittleEndian.Uint16(in[1:])), len(in)-3)
			payload := in[3 : 3+n]
			in = in[3+n:]
			if op == wire.OpBye || op == wire.OpHello {
				continue // ending the fixture's session is no finding
			}
			reply := fix.h.Call(ctx, op, fix.next, payload)
			fix.next++
			if len(reply) == 0 {
				t.Fatalf("%v: empty reply", op)
			}
		}
		rep, err := fix.m.Check(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) > 0 {
			t.Fatalf("volume inconsistent after the calls: %v", rep.Problems)
		}
	})
}

// hangAfter is how long the calls of one input may take.
const hangAfter = 20 * time.Second

// fixture is one service and session; calls pile up on the same volume
// for fixtureRuns inputs, as a long-lived hostile client's would, then a
// fresh volume keeps the consistency check cheap.
type fixture struct {
	s    *Service
	m    *meta.FS
	h    *handler
	next uint64
	runs int
}

const fixtureRuns = 256

var fx struct {
	sync.Mutex
	cur *fixture
}

type dropPusher struct{}

func (dropPusher) Push(wire.Op, uint64, wire.Message) error { return nil }

var _ rpc.Pusher = dropPusher{}

// dispatchFixture returns the fixture for the next input; the caller
// holds fx.
func dispatchFixture(t *testing.T) *fixture {
	if c := fx.cur; c != nil && c.runs < fixtureRuns {
		c.runs++
		return c
	}
	if c := fx.cur; c != nil {
		c.s.Close()
		c.m.Close()
		fx.cur = nil
	}
	ctx := context.Background()
	store := memkv.New()
	if err := meta.Format(ctx, store, meta.FormatOptions{BlockSize: 1 << 16, UUID: "fuzz"}); err != nil {
		t.Fatal(err)
	}
	s := New(Options{LeasePeriod: time.Hour, RecallTimeout: time.Millisecond, Async: true, Export: Export{
		Root: "/x", IDs: IDMap{Squash: true, AnonUID: DefaultAnonID, AnonGID: DefaultAnonID, UIDs: map[uint32]uint32{1000: 2000}},
	}})
	m, err := meta.New(ctx, store, meta.Options{OnCommit: s.OnCommit, KeepOrphans: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Mkdir(ctx, meta.Root, 1, "x", 0o777); err != nil {
		t.Fatal(err)
	}
	s.Configure(memblob.New(), 1<<16, "fuzz")
	if err := s.Attach(ctx, m); err != nil {
		t.Fatal(err)
	}
	sh, _, err := s.Accept(ctx, &wire.Hello{MinVersion: wire.MinVersion, MaxVersion: wire.Version, Client: "fuzz"}, "fuzz", dropPusher{})
	if err != nil {
		t.Fatal(err)
	}
	fx.cur = &fixture{s: s, m: m, h: sh.(*handler), next: 1, runs: 1}
	return fx.cur
}

// dispatchSeeds are calls a client makes: a directory, a file written
// through its own objects, a rename, a link, xattrs, a listing.
func dispatchSeeds() [][]byte {
	idx := map[wire.Op]byte{}
	for i, op := range wire.Ops() {
		idx[op] = byte(i)
	}
	call := func(b []byte, op wire.Op, m wire.Message) []byte {
		p := wire.Append(nil, m)
		b = append(b, idx[op])
		b = binary.LittleEndian.AppendUint16(b, uint16(len(p)))
		return append(b, p...)
	}
	c := meta.Caller{UID: 1000, GID: 1000}
	var s1 []byte
	s1 = call(s1, wire.OpMkdir, &wire.Make{C: c, Parent: 1, Name: "d", Mode: 0o755})
	s1 = call(s1, wire.OpCreate, &wire.Make{C: c, Parent: 1, Name: "f", Mode: syscall.S_IFREG | 0o644, Flags: syscall.O_RDWR})
	s1 = call(s1, wire.OpNewObjectIDs, &wire.U64{V: 4})
	s1 = call(s1, wire.OpBlobPut, &wire.BlobPut{Key: chunk.ObjectKey(1), Data: []byte("hello")})
	s1 = call(s1, wire.OpCommitWrite, &wire.CommitWrite{Ino: 3, W: chunk.Write{Blocks: []chunk.Block{{Pieces: []chunk.Piece{{Obj: 1, Len: 5}}}}, Size: 5, Mtime: 1}})
	s1 = call(s1, wire.OpGetLayout, &wire.GetLayout{Ino: 3, Count: 4})
	s1 = call(s1, wire.OpRelease, &wire.Ino{Ino: 3})
	var s2 []byte
	s2 = call(s2, wire.OpLookup, &wire.Entry{C: c, Parent: 1, Name: "f"})
	s2 = call(s2, wire.OpRename, &wire.Rename{C: c, OldParent: 1, OldName: "f", NewParent: 1, NewName: "g"})
	s2 = call(s2, wire.OpLink, &wire.Link{C: c, Ino: 3, NewParent: 1, NewName: "h"})
	s2 = call(s2, wire.OpSetXattr, &wire.Xattr{C: c, Ino: 3, Name: "user.a", Value: []byte("v")})
	s2 = call(s2, wire.OpReadDir, &wire.ReadDir{C: c, Ino: 1, Max: 10, Plus: true})
	s2 = call(s2, wire.OpUnlink, &wire.Entry{C: c, Parent: 1, Name: "h"})
	s2 = call(s2, wire.OpLookup, &wire.Entry{C: c, Parent: 1, Name: ".."})
	s2 = call(s2, wire.OpGetAttr, &wire.Ino{Ino: 1})
	var s3 []byte
	s3 = call(s3, wire.OpSetAttr, &wire.SetAttr{C: meta.Root, Ino: 1, In: meta.SetAttrIn{Valid: meta.SetUID | meta.SetSize, Size: 1 << 63}})
	s3 = call(s3, wire.OpFallocate, &wire.Fallocate{C: c, Ino: 3, Off: 1 << 62, Length: 1 << 62})
	s3 = call(s3, wire.OpTmpfile, &wire.Make{C: c, Parent: 1, Mode: syscall.S_IFREG | 0o600, Flags: syscall.O_RDWR})
	s3 = call(s3, wire.OpSymlink, &wire.Make{C: c, Parent: 1, Name: "s", Target: "../../etc"})
	s3 = call(s3, wire.OpRmdir, &wire.Entry{C: c, Parent: 1, Name: "d"})
	return [][]byte{s1, s2, s3, {0xff, 0xff, 0xff}}
}
