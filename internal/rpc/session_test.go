package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

var transports = []struct {
	name string
	addr func(t *testing.T) rpc.Addr
}{
	{"tcp", func(*testing.T) rpc.Addr { return loopback() }},
	{"unix", unixAddr},
}

// TestPipelining sends many calls at once on one connection: each gets
// its own answer, whatever order the service answers them in.
func TestPipelining(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ts := newTestService()
			s := startServer(t, ts, tr.addr(t), rpc.ServerOptions{})
			cl := connect(t, rpc.ClientOptions{}, s.addr)
			ctx := bounded(t)

			// 32 calls that answer only once all 32 are in: the
			// connection carries them at the same time.
			const meet = 32
			var wg sync.WaitGroup
			errs := make(chan error, meet)
			for range meet {
				wg.Go(func() { errs <- cl.Call(ctx, opMeet, &wire.U64{V: meet}, nil) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("meeting call: %v", err)
				}
			}

			// Echoes of different sizes and delays, answered out of order.
			const goroutines, calls = 16, 40
			errs = make(chan error, goroutines)
			for g := range goroutines {
				wg.Go(func() {
					for i := range calls {
						if i%4 == 0 {
							d := time.Duration(rand.IntN(2000)) * time.Microsecond
							if err := cl.Call(ctx, opSleep, &wire.U64{V: uint64(d)}, nil); err != nil {
								errs <- err
								return
							}
						}
						msg := fmt.Sprintf("%d/%d/%s", g, i, strings.Repeat("x", rand.IntN(70000)))
						if err := echo(ctx, cl, msg); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if n := ts.acceptCount(); n != 1 {
				t.Fatalf("%d sessions accepted, want 1", n)
			}
		})
	}
}

// TestPush checks that the service's pushes reach OnPush, with their op,
// id and payload, including one pushed while the session is admitted.
func TestPush(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ts := newTestService()
			ts.pushOnAccept = true
			s := startServer(t, ts, tr.addr(t), rpc.ServerOptions{})
			type push struct {
				h wire.Header
				d wire.Data
			}
			pushes := make(chan push, 16)
			cl := connect(t, rpc.ClientOptions{OnPush: func(h wire.Header, p []byte) {
				var d wire.Data
				if err := wire.Decode(p, &d); err != nil {
					t.Errorf("push payload: %v", err)
				}
				pushes <- push{h, d}
			}}, s.addr)

			// The push made in Accept comes after the answer to Hello.
			p := recv(t, pushes, "the push from Accept")
			if p.h.Kind != wire.KindPush || p.h.Op != opPushed || p.h.ID != 7 || string(p.d.B) != "welcome" {
				t.Fatalf("push %+v %q, want push %v id 7 %q", p.h, p.d.B, opPushed, "welcome")
			}
			if err := cl.Call(bounded(t), opPush, &wire.Data{B: []byte("recall me")}, nil); err != nil {
				t.Fatal(err)
			}
			p = recv(t, pushes, "a push")
			if p.h.Kind != wire.KindPush || p.h.Op != opPushed || p.h.ID != 42 || string(p.d.B) != "recall me" {
				t.Fatalf("push %+v %q, want push %v id 42 %q", p.h, p.d.B, opPushed, "recall me")
			}
		})
	}
}

// TestRefused checks that Connect fails at once, naming the reason, when
// the service refuses the session.
func TestRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(ts *testService)
		want  []string
	}{
		{"refused", func(ts *testService) { ts.refuse = fmt.Errorf("%w: volume is read-only today", syscall.EACCES) }, []string{"refused the session", "volume is read-only today"}},
		{"no shared version", func(ts *testService) { ts.minV, ts.maxV = wire.Version+1, wire.Version+2 }, []string{"refused the session", fmt.Sprintf("client speaks protocol %d-%d", wire.MinVersion, wire.Version)}},
		{"answers an unspoken version", func(ts *testService) { ts.replyVersion = wire.Version + 7 }, []string{fmt.Sprintf("version %d", wire.Version+7)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestService()
			tt.setup(ts)
			s := startServer(t, ts, loopback(), rpc.ServerOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			cl, err := rpc.Connect(ctx, rpc.ClientOptions{Addrs: []rpc.Addr{s.addr}})
			if err == nil {
				cl.Close()
				t.Fatal("Connect succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("Connect: %q, want it to say %q", err, w)
				}
			}
			if ctx.Err() != nil {
				t.Fatal("Connect waited for its context instead of failing at once")
			}
		})
	}
}

// TestConnectTriesEveryAddress checks that Connect passes over an address
// nobody listens on, and fails with every cause when none answers.
func TestConnectTriesEveryAddress(t *testing.T) {
	dead := unixAddr(t) // nothing listens there
	ts := newTestService()
	s := startServer(t, ts, loopback(), rpc.ServerOptions{})
	cl := connect(t, rpc.ClientOptions{}, dead, s.addr)
	if err := echo(bounded(t), cl, "hi"); err != nil {
		t.Fatal(err)
	}

	_, err := rpc.Connect(bounded(t), rpc.ClientOptions{Addrs: []rpc.Addr{dead, dead}})
	if err == nil || !strings.Contains(err.Error(), dead.String()) {
		t.Fatalf("Connect to nothing: %v", err)
	}
	if _, err := rpc.Connect(bounded(t), rpc.ClientOptions{}); err == nil {
		t.Fatal("Connect without addresses succeeded")
	}
}

// TestClosePending checks that Close fails the calls in flight, and every
// later call, with ErrClosed.
func TestClosePending(t *testing.T) {
	ts := newTestService()
	s := startServer(t, ts, loopback(), rpc.ServerOptions{})
	cl := connect(t, rpc.ClientOptions{}, s.addr)
	const n = 4
	errs := make(chan error, n)
	for range n {
		go func() { errs <- cl.Call(context.Background(), opGate, &wire.Empty{}, nil) }()
	}
	for range n {
		recv(t, ts.started, "a gated call to start")
	}
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := recv(t, errs, "a pending call to fail"); !errors.Is(err, rpc.ErrClosed) {
			t.Fatalf("pending call after Close: %v, want ErrClosed", err)
		}
	}
	if err := echo(context.Background(), cl, "late"); !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("call after Close: %v, want ErrClosed", err)
	}
	if err := cl.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// The service sees the connection end once its calls return.
	close(ts.gate)
	recv(t, ts.detach, "Detached")
}

// TestCallContext checks that a call gives up when its context ends, and
// that its late answer harms nothing.
func TestCallContext(t *testing.T) {
	ts := newTestService()
	s := startServer(t, ts, loopback(), rpc.ServerOptions{})
	cl := connect(t, rpc.ClientOptions{}, s.addr)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- cl.Call(ctx, opGate, &wire.Empty{}, nil) }()
	recv(t, ts.started, "the gated call")
	cancel()
	if err := recv(t, errc, "the canceled call"); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled call: %v", err)
	}
	close(ts.gate) // its answer comes, for nobody
	if err := echo(bounded(t), cl, "after"); err != nil {
		t.Fatal(err)
	}
}

// TestRemoteError checks that a failure the service reports carries its
// errno and reason.
func TestRemoteError(t *testing.T) {
	ts := newTestService()
	s := startServer(t, ts, loopback(), rpc.ServerOptions{})
	cl := connect(t, rpc.ClientOptions{}, s.addr)
	err := cl.Call(bounded(t), wire.Op(999), &wire.Empty{}, nil)
	var re *wire.RemoteError
	if !errors.As(err, &re) || !errors.Is(err, syscall.ENOSYS) || !strings.Contains(re.Reason, "op999") {
		t.Fatalf("unknown op: %v", err)
	}
}
