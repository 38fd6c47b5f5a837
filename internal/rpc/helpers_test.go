package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// wait bounds every wait of these tests: a test that waits longer fails.
const wait = 5 * time.Second

// The ops of the test service. rpc does not care what an op means: these
// are outside the range wire defines.
const (
	opEcho   wire.Op = 1000 + iota // Data → the same Data
	opSleep                        // U64 nanoseconds: sleeps, then answers Empty
	opGate                         // blocks until the service's gate opens
	opPush                         // pushes its Data back as opPushed (id 42), then answers
	opMeet                         // U64 n: answers once n opMeet calls are in at once
	opPushed                       // the op of the service's pushes
)

// testService is a small Acceptor and SessionHandler: enough of a service
// to exercise sessions, pipelining, pushes and reconnects. Its sessions
// outlive a Server, so that a client resumes its session with a server
// restarted on the same address.
type testService struct {
	lease        time.Duration // told to clients; the heartbeat is a quarter of it
	minV, maxV   uint16        // versions spoken; 0 means wire's
	replyVersion uint16        // the version answered; 0 means the highest shared
	refuse       error         // refuse every session with this
	pushOnAccept bool          // push opPushed "welcome" from Accept

	gate    chan struct{} // opGate calls wait for it to close
	quit    chan struct{} // closed at cleanup: opGate calls return
	started chan uint64   // ids of opGate calls as they start
	detach  chan error    // the cause of every Detached

	mu       sync.Mutex
	sessions map[uint64]bool
	accepts  int
	runs     map[uint64]int // call id → how many times a handler ran it
	meet     *meeting
	quitOnce sync.Once
}

type meeting struct {
	n, in int
	all   chan struct{}
}

func newTestService() *testService {
	return &testService{
		lease:    2 * time.Second,
		gate:     make(chan struct{}),
		quit:     make(chan struct{}),
		started:  make(chan uint64, 1024),
		detach:   make(chan error, 1024),
		sessions: make(map[uint64]bool),
		runs:     make(map[uint64]int),
	}
}

func (ts *testService) stop() { ts.quitOnce.Do(func() { close(ts.quit) }) }

func (ts *testService) accept(_ context.Context, h *wire.Hello, _ string, push rpc.Pusher) (rpc.SessionHandler, *wire.HelloReply, error) {
	if ts.refuse != nil {
		return nil, nil, ts.refuse
	}
	minV, maxV := ts.minV, ts.maxV
	if minV == 0 {
		minV, maxV = wire.MinVersion, wire.Version
	}
	if h.MaxVersion < minV || h.MinVersion > maxV {
		return nil, nil, fmt.Errorf("%w: client speaks protocol %d-%d, service %d-%d", syscall.EPROTO, h.MinVersion, h.MaxVersion, minV, maxV)
	}
	version := min(h.MaxVersion, maxV)
	if ts.replyVersion != 0 {
		version = ts.replyVersion
	}
	ts.mu.Lock()
	ts.accepts++
	id, resumed := h.Session, ts.sessions[h.Session]
	if !resumed {
		id = uint64(len(ts.sessions) + 1)
		ts.sessions[id] = true
	}
	ts.mu.Unlock()
	if ts.pushOnAccept {
		push.Push(opPushed, 7, &wire.Data{B: []byte("welcome")})
	}
	reply := &wire.HelloReply{Version: version, Session: id, Resumed: resumed, LeasePeriod: int64(ts.lease), BlockSize: 4096, Volume: "test"}
	return &testHandler{ts: ts, push: push}, reply, nil
}

func (ts *testService) runsOf(id uint64) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.runs[id]
}

func (ts *testService) acceptCount() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.accepts
}

type testHandler struct {
	ts   *testService
	push rpc.Pusher
}

func (h *testHandler) Call(_ context.Context, op wire.Op, id uint64, p []byte) []byte {
	ts := h.ts
	ts.mu.Lock()
	ts.runs[id]++
	ts.mu.Unlock()
	ok := func(m wire.Message) []byte { return wire.AppendReply(nil, 0, "", m) }
	fail := func(err error) []byte { return wire.AppendReply(nil, syscall.EINVAL, err.Error(), nil) }
	switch op {
	case opEcho:
		var d wire.Data
		if err := wire.Decode(p, &d); err != nil {
			return fail(err)
		}
		return ok(&d)
	case opSleep:
		var d wire.U64
		if err := wire.Decode(p, &d); err != nil {
			return fail(err)
		}
		time.Sleep(time.Duration(d.V))
		return ok(nil)
	case opGate:
		ts.started <- id
		select {
		case <-ts.gate:
		case <-ts.quit:
		}
		return ok(nil)
	case opPush:
		var d wire.Data
		if err := wire.Decode(p, &d); err != nil {
			return fail(err)
		}
		if err := h.push.Push(opPushed, 42, &d); err != nil {
			return fail(err)
		}
		return ok(nil)
	case opMeet:
		var n wire.U64
		if err := wire.Decode(p, &n); err != nil {
			return fail(err)
		}
		ts.mu.Lock()
		if ts.meet == nil {
			ts.meet = &meeting{n: int(n.V), all: make(chan struct{})}
		}
		m := ts.meet
		if m.in++; m.in == m.n {
			close(m.all)
			ts.meet = nil
		}
		ts.mu.Unlock()
		select {
		case <-m.all:
			return ok(nil)
		case <-ts.quit:
			return fail(errors.New("the meeting never filled"))
		}
	}
	return wire.AppendReply(nil, syscall.ENOSYS, fmt.Sprintf("op %v", op), nil)
}

func (h *testHandler) Detached(err error) { h.ts.detach <- err }

// server is a running rpc.Server on one listener.
type server struct {
	srv  *rpc.Server
	addr rpc.Addr
	done chan error // Serve's result
}

// startServer serves ts on a (a zero port picks one) until the test ends.
func startServer(t *testing.T, ts *testService, a rpc.Addr, opts rpc.ServerOptions) *server {
	t.Helper()
	ln, err := rpc.Listen(a)
	if err != nil {
		t.Fatal(err)
	}
	if a.Scheme == "tcp" {
		a.Host = ln.Addr().String()
	}
	opts.Accept = ts.accept
	s := &server{srv: rpc.NewServer(opts), addr: a, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(ln) }()
	t.Cleanup(func() {
		ts.stop()
		s.srv.Close()
	})
	return s
}

// close stops the server and checks that Serve returned nil.
func (s *server) close(t *testing.T) {
	t.Helper()
	s.srv.Close()
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("Serve after Close: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Serve did not return after Close")
	}
}

func loopback() rpc.Addr { return rpc.Addr{Scheme: "tcp", Host: "127.0.0.1:0"} }

func unixAddr(t *testing.T) rpc.Addr {
	return rpc.Addr{Scheme: "unix", Host: filepath.Join(t.TempDir(), "s")}
}

// connect opens a session with the server at a, closed at cleanup.
func connect(t *testing.T, opts rpc.ClientOptions, a ...rpc.Addr) *rpc.Client {
	t.Helper()
	opts.Addrs = a
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cl, err := rpc.Connect(ctx, opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func echo(ctx context.Context, cl *rpc.Client, s string) error {
	var got wire.Data
	if err := cl.Call(ctx, opEcho, &wire.Data{B: []byte(s)}, &got); err != nil {
		return err
	}
	if string(got.B) != s {
		return fmt.Errorf("echo of %q answered %q", s, got.B)
	}
	return nil
}

// bounded returns a context that ends after wait.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// recv returns the next value of ch, failing the test after wait.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// eventually polls cond until it holds, failing the test after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// session records what OnSession was told.
type sessionEvent struct {
	reply     wire.HelloReply
	reconnect bool
}

func sessionEvents() (chan sessionEvent, func(*wire.HelloReply, bool)) {
	ch := make(chan sessionEvent, 64)
	return ch, func(r *wire.HelloReply, reconnect bool) { ch <- sessionEvent{*r, reconnect} }
}

// rawHello dials a, says Hello and returns the connection after the
// service's answer.
func rawHello(t *testing.T, a rpc.Addr) net.Conn {
	t.Helper()
	c, err := rpc.Dial(bounded(t), a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(wait))
	hello := &wire.Hello{MinVersion: wire.MinVersion, MaxVersion: wire.Version, Client: "raw"}
	if _, err := c.Write(wire.AppendFrame(nil, wire.Header{Kind: wire.KindCall, Op: wire.OpHello, ID: 1}, wire.Append(nil, hello))); err != nil {
		t.Fatal(err)
	}
	h, p, err := wire.ReadFrame(c, 0)
	if err != nil {
		t.Fatalf("hello: %v", err)
	}
	var reply wire.HelloReply
	if h.Kind != wire.KindReply || h.Op != wire.OpHello || h.ID != 1 {
		t.Fatalf("hello answered with %+v", h)
	}
	if err := wire.DecodeReply(wire.OpHello, p, &reply); err != nil {
		t.Fatalf("hello: %v", err)
	}
	return c
}

// closedByPeer waits until the peer closes c and reports how the read ended.
func closedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the service did not close the connection")
		}
		return // EOF or reset
	}
}
