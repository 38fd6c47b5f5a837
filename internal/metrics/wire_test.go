package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// echoHandler answers OpGetAttr with an empty reply and every other op
// with ENOENT; inline says whether it lets the server run calls on the
// reader.
type echoHandler struct{ inline bool }

func (echoHandler) Call(_ context.Context, op wire.Op, _ uint64, _ []byte) []byte {
	if op == wire.OpGetAttr {
		return wire.AppendReply(nil, 0, "", nil)
	}
	return wire.AppendReply(nil, syscall.ENOENT, "no", nil)
}
func (echoHandler) Detached(error)           {}
func (h echoHandler) Inline(op wire.Op) bool { return h.inline && op == wire.OpGetAttr }

// serveLoopback runs accept on a loopback port until the test ends and
// returns its address.
func serveLoopback(t *testing.T, accept rpc.Acceptor) rpc.Addr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := rpc.NewServer(rpc.ServerOptions{Accept: accept})
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	a, err := rpc.ParseAddr("tcp://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A session's calls are counted by op and errno; a stats connection
// gets the metrics without a session reaching the service.
func TestAcceptor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ops, r := NewWireOps(), New()
	r.Register(ops)
	sessions := 0
	accept := func(context.Context, *wire.Hello, string, rpc.Pusher) (rpc.SessionHandler, *wire.HelloReply, error) {
		sessions++
		return echoHandler{inline: true}, &wire.HelloReply{Version: wire.Version, Session: 7, LeasePeriod: int64(time.Minute)}, nil
	}
	addr := serveLoopback(t, Acceptor(accept, ops, r))

	c, err := rpc.Connect(ctx, rpc.ClientOptions{Addrs: []rpc.Addr{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 5 {
		if err := c.Call(ctx, wire.OpGetAttr, &wire.Ino{Ino: 1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Call(ctx, wire.OpLookup, &wire.Entry{Parent: 1, Name: "x"}, nil); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("lookup: %v, want ENOENT", err)
	}

	s, err := rpc.Connect(ctx, rpc.ClientOptions{Addrs: []rpc.Addr{addr}, Client: wire.StatsClient})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var d wire.Data
	if err := s.Call(ctx, wire.OpMetrics, &wire.Empty{}, &d); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(d.B)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"getattr calls", f.Count("ferry_wire_call_duration_seconds", "op", "getattr"), 5},
		{"lookup calls", f.Count("ferry_wire_call_duration_seconds", "op", "lookup"), 1},
		{"lookup ENOENT", f.Value("ferry_wire_call_errors_total", "op", "lookup", "errno", "ENOENT"), 1},
		{"getattr errors", f.Value("ferry_wire_call_errors_total", "op", "getattr"), 0},
		{"sessions accepted", float64(sessions), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if err := s.Call(ctx, wire.OpGetAttr, &wire.Ino{Ino: 1}, nil); !errors.Is(err, syscall.EPERM) {
		t.Errorf("getattr on a stats connection: %v, want EPERM", err)
	}
}

// The decorator keeps the inner handler's answer to Inline.
func TestAcceptorInline(t *testing.T) {
	for _, inline := range []bool{false, true} {
		h := measuredHandler{echoHandler{inline: inline}, NewWireOps()}
		if got := h.Inline(wire.OpGetAttr); got != inline {
			t.Errorf("Inline with an inner handler that says %v: %v", inline, got)
		}
	}
	if (measuredHandler{SessionHandler: plainHandler{}}).Inline(wire.OpGetAttr) {
		t.Error("Inline is true for a handler that is no Inliner")
	}
	if got := fmt.Sprint(replyErrno(nil)); got != fmt.Sprint(syscall.EIO) {
		t.Errorf("errno of a short reply: %s", got)
	}
}

type plainHandler struct{}

func (plainHandler) Call(context.Context, wire.Op, uint64, []byte) []byte { return nil }
func (plainHandler) Detached(error)                                       {}
