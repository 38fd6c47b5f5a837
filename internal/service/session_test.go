package service_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// unlinkedWhileOpen has b open a file and a unlink it: the file lives on,
// nameless, while b has it open. It returns the file's inode.
func unlinkedWhileOpen(t *testing.T, e *env, a, b *peer) uint64 {
	t.Helper()
	tr := makeTree(t, a)
	_, err := b.lookup(tr.d, "f")
	b.must(err)
	_, err = b.open(tr.f, syscall.O_RDWR)
	b.must(err)
	a.must(a.unlink(tr.d, "f"))
	checkRecall(t, b.nextRecall().r, []wantItem{{tr.d, attr, []string{"f"}}, {tr.f, attr, nil}})
	if _, err := e.fs.GetAttr(context.Background(), tr.f); err != nil {
		t.Fatalf("a file unlinked while open is gone at once: %v", err)
	}
	return tr.f
}

// TestByeReleasesOpens checks that a session's Bye releases what it had
// open: a file unlinked while open only there is purged.
func TestByeReleasesOpens(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)
	f := unlinkedWhileOpen(t, e, a, b)
	b.must(b.call(wire.OpBye, &wire.Empty{}, nil))
	_, err := e.fs.GetAttr(context.Background(), f)
	wantErrno(t, err, syscall.ENOENT, "getattr of the unlinked file after its only holder's Bye")

	// The session is over.
	_, err = b.getattr(meta.RootIno)
	wantErrno(t, err, syscall.ESTALE, "a call after Bye")
	// And its leases with it: changes do not wait for it.
	if _, err := a.mkdir(meta.RootIno, "after"); err != nil {
		t.Fatal(err)
	}
	b.noRecall()
}

// TestExpiryReleasesOpens has a client vanish without Bye: once its
// session expires (a lease period without renewal), what it had open is
// released, and it cannot resume.
func TestExpiryReleasesOpens(t *testing.T) {
	const lease = 600 * time.Millisecond
	e := newEnv(t, lease, 10*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)
	f := unlinkedWhileOpen(t, e, a, b)
	session := b.cl.Session().Session
	b.cl.Close() // no Bye

	eventually(t, "the vanished session's file to be purged", func() bool {
		_, err := e.fs.GetAttr(context.Background(), f)
		return errors.Is(err, syscall.ENOENT)
	})
	_, reply, err := rawHello(t, e.addr, session, wire.MinVersion, wire.Version)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Resumed || reply.Session == session {
		t.Fatalf("an expired session resumed: %+v", reply)
	}
	// A, which kept renewing, lives on.
	_, err = a.getattr(meta.RootIno)
	a.must(err)
}

// TestDisconnectKeepsSession has a client's connection break: a client
// that comes back within the lease period resumes its session and its
// leases.
func TestDisconnectKeepsSession(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	px := newProxy(t, e.addr)
	a := e.connect(t, "A", true)
	b := e.connectTo(t, "B", true, px.addr())
	b.nextSession()
	tr := makeTree(t, a)
	tr.holdAll(t, b)
	_, err := b.open(tr.f, syscall.O_RDONLY)
	b.must(err)

	px.cut()
	ev := b.nextSession()
	if !ev.reconnect || !ev.reply.Resumed {
		t.Fatalf("after a broken connection: %+v, want a resumed session", ev)
	}
	// Leases and opens survived.
	_, err = a.chmod(tr.g, 0o600)
	a.must(err)
	checkRecall(t, b.nextRecall().r, []wantItem{{tr.g, attr, nil}})
	b.must(b.call(wire.OpRelease, &wire.Ino{Ino: tr.f}, nil))
}

// TestRecallWhileDisconnected recalls a session whose connection is
// down: the recall waits for it and is pushed when it resumes; its ack
// lets the change return, long before the recall timeout.
func TestRecallWhileDisconnected(t *testing.T) {
	e := newEnv(t, 3*time.Second, 20*time.Second)
	px := newProxy(t, e.addr)
	a := e.connect(t, "A", true)
	b := e.connectTo(t, "B", true, px.addr())
	b.nextSession()
	tr := makeTree(t, a)
	tr.holdAll(t, b)

	px.pause(true)
	px.cut()
	done := async(func() error { _, err := a.chmod(tr.f, 0o600); return err })
	// Give the change time to reach its recall while B is away (were it
	// later, B would be recalled on its new connection: also right).
	time.Sleep(100 * time.Millisecond)
	px.pause(false)

	if err := returned(t, done, "a change recalling a session that came back"); err != nil {
		t.Fatalf("A's change: %v", err)
	}
	checkRecall(t, b.nextRecall().r, []wantItem{{tr.f, attr, nil}})
	ev := b.nextSession()
	for !ev.reconnect {
		ev = b.nextSession()
	}
	if !ev.reply.Resumed {
		t.Fatalf("B did not resume its session: %+v", ev)
	}
	_, err := b.getattr(tr.f)
	b.must(err)
}

// TestResentCall sends a mutating call twice with one id, as a client
// does after a reconnect: it runs once, and both get its reply.
func TestResentCall(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	rc, _, err := rawHello(t, e.addr, 0, wire.MinVersion, wire.Version)
	if err != nil {
		t.Fatal(err)
	}
	mk := frame(wire.OpMknod, 77, &wire.Make{C: meta.Root, Parent: meta.RootIno, Name: "once", Mode: syscall.S_IFREG | 0o644})
	rc.write(append(append([]byte(nil), mk...), mk...))
	h1, p1 := rc.read()
	h2, p2 := rc.read()
	if h1.ID != 77 || h2.ID != 77 || h1.Kind != wire.KindReply || h2.Kind != wire.KindReply {
		t.Fatalf("replies %+v and %+v", h1, h2)
	}
	var r wire.Entered
	if err := wire.DecodeReply(wire.OpMknod, p1, &r); err != nil {
		t.Fatalf("the first mknod: %v", err)
	}
	if !bytes.Equal(p1, p2) {
		t.Fatalf("the repeat was answered differently: %v", wire.DecodeReply(wire.OpMknod, p2, &wire.Entered{}))
	}
	// Later, too, the repeat is answered from the first run.
	rc.write(mk)
	if _, p3 := rc.read(); !bytes.Equal(p1, p3) {
		t.Fatalf("a late repeat was answered differently: %v", wire.DecodeReply(wire.OpMknod, p3, &wire.Entered{}))
	}
	// A new id runs anew.
	rc.write(frame(wire.OpMknod, 78, &wire.Make{C: meta.Root, Parent: meta.RootIno, Name: "once", Mode: syscall.S_IFREG | 0o644}))
	_, p4 := rc.read()
	wantErrno(t, wire.DecodeReply(wire.OpMknod, p4, nil), syscall.EEXIST, "mknod with a new id")
}

// pusher is a Pusher for a session served without a connection.
type pusher struct {
	mu     sync.Mutex
	pushed []wire.Op
}

func (p *pusher) Push(op wire.Op, _ uint64, _ wire.Message) error {
	p.mu.Lock()
	p.pushed = append(p.pushed, op)
	p.mu.Unlock()
	return nil
}

// TestConcurrentRepeat calls the service's handler with one id from two
// goroutines at once: the call runs once and both get its reply.
func TestConcurrentRepeat(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	ctx := context.Background()
	h, reply, err := e.svc.Accept(ctx, &wire.Hello{MinVersion: wire.MinVersion, MaxVersion: wire.Version, Client: "direct"}, "test", &pusher{})
	if err != nil {
		t.Fatal(err)
	}
	if reply.Session == 0 || reply.Resumed || reply.Volume != "test-volume" || reply.BlockSize != blockSize {
		t.Fatalf("hello reply %+v", reply)
	}
	defer h.Detached(nil)
	payload := wire.Append(nil, &wire.Make{C: meta.Root, Parent: meta.RootIno, Name: "d", Mode: 0o755})
	const n = 8
	replies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { replies[i] = h.Call(ctx, wire.OpMkdir, 5, payload) })
	}
	wg.Wait()
	for i := range replies {
		if err := wire.DecodeReply(wire.OpMkdir, replies[i], &wire.Entered{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if !bytes.Equal(replies[i], replies[0]) {
			t.Fatalf("calls 0 and %d with one id were answered differently", i)
		}
	}
	// Reads are not cached: the same id runs again, and sees the change.
	lookup := wire.Append(nil, &wire.Entry{C: meta.Root, Parent: meta.RootIno, Name: "x"})
	wantErrno(t, wire.DecodeReply(wire.OpLookup, h.Call(ctx, wire.OpLookup, 6, lookup), nil), syscall.ENOENT, "lookup of x")
	if _, err := e.fs.Mkdir(ctx, meta.Root, meta.RootIno, "x", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := wire.DecodeReply(wire.OpLookup, h.Call(ctx, wire.OpLookup, 6, lookup), &wire.AttrReply{}); err != nil {
		t.Fatalf("lookup of x again: %v", err)
	}
}

// TestCompound checks that a compound answers each of its calls, in
// order, failures included, and leases what they hand out.
func TestCompound(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	a := e.connect(t, "A", true)
	b := e.connect(t, "B", true)
	ent := func(parent uint64, name string) []byte {
		return wire.Append(nil, &wire.Entry{C: meta.Root, Parent: parent, Name: name})
	}
	c := &wire.Compound{Calls: []wire.SubCall{
		{Op: wire.OpGetAttr, Payload: wire.Append(nil, &wire.Ino{Ino: meta.RootIno})},
		{Op: wire.OpLookup, Payload: ent(meta.RootIno, "missing")},
		{Op: wire.OpMkdir, Payload: wire.Append(nil, &wire.Make{C: meta.Root, Parent: meta.RootIno, Name: "x", Mode: 0o755})},
		{Op: wire.OpLookup, Payload: ent(meta.RootIno, "x")},
		{Op: wire.OpGetAttr, Payload: wire.Append(nil, &wire.Ino{Ino: 1 << 40})},
		{Op: wire.OpStatFS, Payload: nil},
		{Op: wire.Op(999), Payload: nil},
		{Op: wire.OpGetAttr, Payload: []byte{1, 2, 3}},
	}}
	var r wire.CompoundReply
	b.must(b.call(wire.OpCompound, c, &r))
	if len(r.Replies) != len(c.Calls) {
		t.Fatalf("%d replies to %d calls", len(r.Replies), len(c.Calls))
	}
	var root, found wire.AttrReply
	var made wire.Entered
	var st wire.StatFSReply
	if err := wire.DecodeReply(wire.OpGetAttr, r.Replies[0], &root); err != nil || root.Attr.Ino != meta.RootIno {
		t.Fatalf("getattr of the root: %+v, %v", root, err)
	}
	wantErrno(t, wire.DecodeReply(wire.OpLookup, r.Replies[1], nil), syscall.ENOENT, "lookup of a missing name")
	if err := wire.DecodeReply(wire.OpMkdir, r.Replies[2], &made); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	if err := wire.DecodeReply(wire.OpLookup, r.Replies[3], &found); err != nil || found.Attr != made.Attr {
		t.Fatalf("lookup after mkdir in one compound: %+v, %v; want %+v", found.Attr, err, made.Attr)
	}
	wantErrno(t, wire.DecodeReply(wire.OpGetAttr, r.Replies[4], nil), syscall.ENOENT, "getattr of no inode")
	if err := wire.DecodeReply(wire.OpStatFS, r.Replies[5], &st); err != nil || st.S.Files != 2 {
		t.Fatalf("statfs: %+v, %v", st, err)
	}
	wantErrno(t, wire.DecodeReply(wire.Op(999), r.Replies[6], nil), syscall.ENOSYS, "an unknown op")
	wantErrno(t, wire.DecodeReply(wire.OpGetAttr, r.Replies[7], nil), syscall.EINVAL, "a malformed call")

	// The compound's lookups leased what they handed out: the root
	// (missing name) and x.
	_, err := a.chmod(made.Attr.Ino, 0o700)
	a.must(err)
	checkRecall(t, b.nextRecall().r, []wantItem{{made.Attr.Ino, attr, nil}})
	_, err = a.mknod(meta.RootIno, "missing")
	a.must(err)
	checkRecall(t, b.nextRecall().r, []wantItem{{meta.RootIno, attr, []string{"missing"}}})

	// Compounds do not nest.
	nested := &wire.Compound{Calls: []wire.SubCall{{Op: wire.OpCompound, Payload: wire.Append(nil, &wire.Compound{})}}}
	wantErrno(t, b.call(wire.OpCompound, nested, nil), syscall.EINVAL, "a nested compound")
}

// TestHelloVersions checks the service's version negotiation.
func TestHelloVersions(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	tests := []struct {
		name       string
		minV, maxV uint16
		want       uint16 // 0: refused
	}{
		{"this version", wire.MinVersion, wire.Version, wire.Version},
		{"a newer client too", wire.MinVersion, wire.Version + 5, wire.Version},
		{"only newer", wire.Version + 1, wire.Version + 5, 0},
		{"only older", 0, wire.MinVersion - 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, reply, err := rawHello(t, e.addr, 0, tt.minV, tt.maxV)
			if tt.want == 0 {
				var re *wire.RemoteError
				if !errors.As(err, &re) || re.Errno != syscall.EPROTO || !strings.Contains(re.Reason, "protocol") {
					t.Fatalf("hello with versions %d-%d: %v, want EPROTO naming the protocol", tt.minV, tt.maxV, err)
				}
				return
			}
			if err != nil || reply.Version != tt.want {
				t.Fatalf("hello with versions %d-%d: %+v, %v; want version %d", tt.minV, tt.maxV, reply, err, tt.want)
			}
		})
	}
}

// TestUnknownSessionStartsOver checks that a Hello naming a session the
// service does not know opens a new one, not resumed.
func TestUnknownSessionStartsOver(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	_, reply, err := rawHello(t, e.addr, 12345, wire.MinVersion, wire.Version)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Resumed || reply.Session == 0 || reply.Session == 12345 {
		t.Fatalf("hello with an unknown session: %+v", reply)
	}
	if reply.LeasePeriod != int64(2*time.Second) {
		t.Fatalf("lease period %v", time.Duration(reply.LeasePeriod))
	}
}

// TestShutdown checks that a closed service refuses new sessions.
func TestShutdown(t *testing.T) {
	e := newEnv(t, 2*time.Second, 10*time.Second)
	e.svc.Close()
	_, err := rpc.Connect(context.Background(), rpc.ClientOptions{Addrs: []rpc.Addr{e.addr}})
	if err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("Connect to a closed service: %v", err)
	}
}
