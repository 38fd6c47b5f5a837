package service_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/blob/memblob"
	"github.com/ferryfs/ferry/internal/kv/memkv"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/service"
	"github.com/ferryfs/ferry/internal/wire"
)

// wait bounds every wait of these tests: a test that waits longer fails.
const wait = 5 * time.Second

const blockSize = 1 << 20

// env is a service over meta on the in-memory store, served on a
// loopback listener, wired as `ferry serve` wires it.
type env struct {
	svc  *service.Service
	fs   *meta.FS
	srv  *rpc.Server
	addr rpc.Addr
}

func newEnv(t testing.TB, lease, recall time.Duration) *env {
	return newEnvWith(t, service.Options{LeasePeriod: lease, RecallTimeout: recall}, nil)
}

// newEnvWith is newEnv with the service's options, and prep run on the
// volume before the service attaches to it.
func newEnvWith(t testing.TB, opts service.Options, prep func(*meta.FS)) *env {
	t.Helper()
	ctx := context.Background()
	store := memkv.New()
	if err := meta.Format(ctx, store, meta.FormatOptions{BlockSize: blockSize, UUID: "test-volume"}); err != nil {
		t.Fatal(err)
	}
	svc := service.New(opts)
	fs, err := meta.New(ctx, store, meta.Options{OnCommit: svc.OnCommit, KeepOrphans: true})
	if err != nil {
		t.Fatal(err)
	}
	if prep != nil {
		prep(fs)
	}
	svc.Configure(memblob.New(), blockSize, "test-volume")
	if err := svc.Attach(ctx, fs); err != nil {
		t.Fatal(err)
	}
	srv := rpc.NewServer(rpc.ServerOptions{Accept: svc.Accept})
	ln, err := rpc.Listen(rpc.Addr{Scheme: "tcp", Host: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
		fs.Close()
	})
	return &env{svc: svc, fs: fs, srv: srv, addr: rpc.Addr{Scheme: "tcp", Host: ln.Addr().String()}}
}

// recallPush is a recall a peer received.
type recallPush struct {
	id uint64
	r  wire.Recall
}

type sessionEvent struct {
	reply     wire.HelloReply
	reconnect bool
}

// peer is a client session: an rpc client that records the recalls it
// is pushed and, if autoAck, acknowledges them.
type peer struct {
	t        testing.TB
	name     string
	cl       *rpc.Client
	autoAck  bool
	in       chan recallPush // from OnPush to the acker
	recalls  chan recallPush // every recall, as received
	sessions chan sessionEvent
	stop     chan struct{}
	lockPush chan uint64 // inodes of OpLocksChanged pushes (locks_test.go)
}

func (e *env) connect(t testing.TB, name string, autoAck bool) *peer {
	return e.connectTo(t, name, autoAck, e.addr)
}

func (e *env) connectTo(t testing.TB, name string, autoAck bool, a rpc.Addr) *peer {
	t.Helper()
	p := &peer{
		t: t, name: name, autoAck: autoAck,
		in:       make(chan recallPush, 256),
		recalls:  make(chan recallPush, 256),
		sessions: make(chan sessionEvent, 16),
		stop:     make(chan struct{}),
		lockPush: make(chan uint64, 256),
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cl, err := rpc.Connect(ctx, rpc.ClientOptions{
		Addrs:  []rpc.Addr{a},
		Client: name,
		OnPush: func(h wire.Header, payload []byte) {
			if h.Op == wire.OpLocksChanged {
				p.lockPushed(payload)
				return
			}
			if h.Op != wire.OpRecall {
				t.Errorf("%s: push of %v", name, h.Op)
				return
			}
			var r wire.Recall
			if err := wire.Decode(payload, &r); err != nil {
				t.Errorf("%s: recall: %v", name, err)
				return
			}
			select {
			case p.in <- recallPush{h.ID, r}:
			case <-p.stop:
			}
		},
		OnSession: func(r *wire.HelloReply, reconnect bool) { p.sessions <- sessionEvent{*r, reconnect} },
	})
	if err != nil {
		t.Fatalf("%s: connect: %v", name, err)
	}
	p.cl = cl
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case r := <-p.in:
				p.recalls <- r
				if p.autoAck {
					p.ack(r.id)
				}
			case <-p.stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(p.stop)
		<-done
		cl.Close()
	})
	return p
}

func (p *peer) call(op wire.Op, req, reply wire.Message) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if reply == nil {
		reply = wire.Reply(op) // the test does not look at it
	}
	return p.cl.Call(ctx, op, req, reply)
}

// must fails the test on err.
func (p *peer) must(err error) {
	p.t.Helper()
	if err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

func (p *peer) ack(id uint64) {
	// A session the service expired answers ESTALE; the recall is over
	// for it anyway.
	err := p.call(wire.OpRecallAck, &wire.RecallAck{Recall: id}, nil)
	if err != nil && !errors.Is(err, syscall.ESTALE) && !errors.Is(err, rpc.ErrClosed) {
		p.t.Errorf("%s: ack of recall %d: %v", p.name, id, err)
	}
}

func (p *peer) attrCall(op wire.Op, req wire.Message) (meta.Attr, error) {
	r := wire.Reply(op)
	err := p.call(op, req, r)
	return replyAttr(r), err
}

// replyAttr is the inode attributes of a reply that carries them.
func replyAttr(r wire.Message) meta.Attr {
	switch r := r.(type) {
	case *wire.AttrReply:
		return r.Attr
	case *wire.Entered:
		return r.Attr
	}
	return meta.Attr{}
}

func (p *peer) lookup(parent uint64, name string) (meta.Attr, error) {
	return p.attrCall(wire.OpLookup, &wire.Entry{C: meta.Root, Parent: parent, Name: name})
}

func (p *peer) getattr(ino uint64) (meta.Attr, error) {
	return p.attrCall(wire.OpGetAttr, &wire.Ino{Ino: ino})
}

func (p *peer) mknod(parent uint64, name string) (meta.Attr, error) {
	return p.attrCall(wire.OpMknod, &wire.Make{C: meta.Root, Parent: parent, Name: name, Mode: syscall.S_IFREG | 0o644})
}

func (p *peer) mkdir(parent uint64, name string) (meta.Attr, error) {
	return p.attrCall(wire.OpMkdir, &wire.Make{C: meta.Root, Parent: parent, Name: name, Mode: 0o755})
}

func (p *peer) chmod(ino uint64, mode uint32) (meta.Attr, error) {
	return p.attrCall(wire.OpSetAttr, &wire.SetAttr{C: meta.Root, Ino: ino, In: meta.SetAttrIn{Valid: meta.SetMode, Mode: mode}})
}

func (p *peer) open(ino uint64, flags uint32) (meta.Attr, error) {
	return p.attrCall(wire.OpOpen, &wire.InoOp{C: meta.Root, Ino: ino, N: flags})
}

func (p *peer) unlink(parent uint64, name string) error {
	return p.call(wire.OpUnlink, &wire.Entry{C: meta.Root, Parent: parent, Name: name}, nil)
}

// nextRecall returns the next recall p received, failing after wait.
func (p *peer) nextRecall() recallPush {
	p.t.Helper()
	select {
	case r := <-p.recalls:
		return r
	case <-time.After(wait):
		p.t.Fatalf("%s: no recall came", p.name)
		panic("unreachable")
	}
}

// nextSession returns what OnSession was told next, failing after wait.
func (p *peer) nextSession() sessionEvent {
	p.t.Helper()
	select {
	case ev := <-p.sessions:
		return ev
	case <-time.After(wait):
		p.t.Fatalf("%s: OnSession was not called", p.name)
		panic("unreachable")
	}
}

// noRecall fails the test if p received a recall.
func (p *peer) noRecall() {
	p.t.Helper()
	select {
	case r := <-p.recalls:
		p.t.Fatalf("%s was recalled: id %d %+v", p.name, r.id, r.r.Items)
	default:
	}
}

// async runs fn and returns a channel with its error.
func async(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

// returned waits for the result of async, failing after wait.
func returned(t testing.TB, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(wait):
		t.Fatalf("%s did not return within %v", what, wait)
		return nil
	}
}

// stillRunning fails the test if the call behind ch returned.
func stillRunning(t testing.TB, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s returned (%v) too early", what, err)
	case <-time.After(50 * time.Millisecond):
	}
}

// eventually polls cond until it holds, failing the test after wait.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wantErrno(t testing.TB, err error, want syscall.Errno, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

// rawConn is a connection that speaks frames directly.
type rawConn struct {
	t testing.TB
	c net.Conn
}

// rawHello dials a and says Hello with the versions given.
func rawHello(t testing.TB, a rpc.Addr, session uint64, minV, maxV uint16) (*rawConn, wire.HelloReply, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := rpc.Dial(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(wait))
	rc := &rawConn{t: t, c: c}
	rc.send(wire.Header{Kind: wire.KindCall, Op: wire.OpHello, ID: 1}, &wire.Hello{MinVersion: minV, MaxVersion: maxV, Session: session, Client: "raw"})
	h, p := rc.read()
	if h.Kind != wire.KindReply || h.Op != wire.OpHello {
		t.Fatalf("hello answered with %+v", h)
	}
	var reply wire.HelloReply
	err = wire.DecodeReply(wire.OpHello, p, &reply)
	return rc, reply, err
}

func frame(op wire.Op, id uint64, m wire.Message) []byte {
	return wire.AppendFrame(nil, wire.Header{Kind: wire.KindCall, Op: op, ID: id}, wire.Append(nil, m))
}

func (rc *rawConn) send(h wire.Header, m wire.Message) {
	rc.write(wire.AppendFrame(nil, h, wire.Append(nil, m)))
}

func (rc *rawConn) write(b []byte) {
	rc.t.Helper()
	if _, err := rc.c.Write(b); err != nil {
		rc.t.Fatal(err)
	}
}

// read returns the next frame that is not a push.
func (rc *rawConn) read() (wire.Header, []byte) {
	rc.t.Helper()
	for {
		h, p, err := wire.ReadFrame(rc.c, 0)
		if err != nil {
			rc.t.Fatalf("read: %v", err)
		}
		if h.Kind != wire.KindPush {
			return h, p
		}
	}
}

// proxy relays TCP connections to a service, and can cut them and turn
// new ones away, as a network that fails does.
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	conns  []net.Conn
	paused bool
}

func newProxy(t testing.TB, target rpc.Addr) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target.Host}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	return p
}

func (p *proxy) addr() rpc.Addr { return rpc.Addr{Scheme: "tcp", Host: p.ln.Addr().String()} }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		paused := p.paused
		p.mu.Unlock()
		if paused {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go relay(c, up)
		go relay(up, c)
	}
}

func relay(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// cut closes every relayed connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// pause turns new connections away (they are closed at once) while on.
func (p *proxy) pause(on bool) {
	p.mu.Lock()
	p.paused = on
	p.mu.Unlock()
}
