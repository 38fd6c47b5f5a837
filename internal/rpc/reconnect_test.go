package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// TestServerRestart stops the server, makes calls while it is down, and
// starts it again on the same address: the calls wait, the client
// reconnects and resumes its session, and the calls complete.
func TestServerRestart(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			ts := newTestService()
			ts.lease = 400 * time.Millisecond
			s1 := startServer(t, ts, tr.addr(t), rpc.ServerOptions{})
			events, onSession := sessionEvents()
			cl := connect(t, rpc.ClientOptions{OnSession: onSession}, s1.addr)
			if ev := recv(t, events, "OnSession"); ev.reconnect || ev.reply.Resumed {
				t.Fatalf("first OnSession: %+v", ev)
			}
			session := cl.Session().Session
			if err := echo(bounded(t), cl, "before"); err != nil {
				t.Fatal(err)
			}

			s1.close(t)
			const n = 8
			errs := make(chan error, n)
			for i := range n {
				go func() { errs <- echo(bounded(t), cl, fmt.Sprint("while down ", i)) }()
			}
			select {
			case err := <-errs:
				t.Fatalf("a call returned while the service was down: %v", err)
			default:
			}

			startServer(t, ts, s1.addr, rpc.ServerOptions{})
			for range n {
				if err := recv(t, errs, "a call made while the service was down"); err != nil {
					t.Fatal(err)
				}
			}
			ev := recv(t, events, "OnSession after the reconnect")
			if !ev.reconnect || !ev.reply.Resumed || ev.reply.Session != session {
				t.Fatalf("OnSession after the restart: %+v, want a resumed session %d on reconnect", ev, session)
			}
		})
	}
}

// TestResend stops the server while a call is in flight: the call had no
// answer, so the client sends it again, with its id, after the reconnect.
func TestResend(t *testing.T) {
	ts := newTestService()
	ts.lease = 400 * time.Millisecond
	s1 := startServer(t, ts, loopback(), rpc.ServerOptions{})
	events, onSession := sessionEvents()
	cl := connect(t, rpc.ClientOptions{OnSession: onSession}, s1.addr)
	recv(t, events, "OnSession")

	errc := make(chan error, 1)
	go func() { errc <- cl.Call(bounded(t), opGate, &wire.Empty{}, nil) }()
	id := recv(t, ts.started, "the gated call")

	// Close waits for the gated call; it has closed the connection once
	// the listener is gone.
	closed := make(chan struct{})
	go func() { s1.close(t); close(closed) }()
	eventually(t, "the listener to close", func() bool {
		c, err := rpc.Dial(context.Background(), s1.addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// The server closes its connections just after its listener: wait
	// until the client saw its connection go, or the first run's answer
	// could still reach it.
	eventually(t, "the client to lose its connection", func() bool { return !cl.Connected() })
	close(ts.gate) // the first run ends; its answer has no connection to go to
	recv(t, closed, "the server to close")

	startServer(t, ts, s1.addr, rpc.ServerOptions{})
	if err := recv(t, errc, "the resent call"); err != nil {
		t.Fatal(err)
	}
	if n := ts.runsOf(id); n != 2 {
		t.Fatalf("call %d ran %d times, want 2 (once per server)", id, n)
	}
	if ev := recv(t, events, "OnSession after the reconnect"); !ev.reconnect || !ev.reply.Resumed {
		t.Fatalf("OnSession: %+v", ev)
	}
}

// TestReconnectPrompt checks that a client whose connection broke
// reconnects at once, not at its next heartbeat: with a 40 s lease the
// heartbeat comes every 10 s.
func TestReconnectPrompt(t *testing.T) {
	ts := newTestService()
	ts.lease = 40 * time.Second
	s1 := startServer(t, ts, loopback(), rpc.ServerOptions{})
	cl := connect(t, rpc.ClientOptions{}, s1.addr)
	s1.close(t)
	startServer(t, ts, s1.addr, rpc.ServerOptions{})
	if err := echo(bounded(t), cl, "soon"); err != nil {
		t.Fatalf("call after a restart: %v", err)
	}
}

// TestPatience checks that calls to a service that stays away fail with
// EIO after the client's patience, and that calls succeed again once the
// service is back.
func TestPatience(t *testing.T) {
	ts := newTestService()
	ts.lease = 400 * time.Millisecond
	s1 := startServer(t, ts, loopback(), rpc.ServerOptions{})
	const patience = 200 * time.Millisecond
	cl := connect(t, rpc.ClientOptions{Patience: patience, DialTimeout: time.Second}, s1.addr)
	s1.close(t)

	err := echo(bounded(t), cl, "into the void")
	var un *rpc.Unreachable
	if !errors.Is(err, syscall.EIO) || !errors.As(err, &un) {
		t.Fatalf("call to a service that stayed away: %v, want *Unreachable (EIO)", err)
	}
	if un.Op != opEcho || un.For < patience {
		t.Fatalf("Unreachable %+v: want op %v, down for at least %v", un, opEcho, patience)
	}
	// Later calls fail at once while it stays away.
	if err := echo(bounded(t), cl, "again"); !errors.Is(err, syscall.EIO) {
		t.Fatalf("second call: %v, want EIO", err)
	}

	startServer(t, ts, s1.addr, rpc.ServerOptions{})
	eventually(t, "calls to succeed once the service is back", func() bool {
		return echo(bounded(t), cl, "back") == nil
	})
}

// TestCloseWhileReconnecting closes the client while it reconnects,
// between the service's answer to Hello and the connection's use: the
// new connection must not outlive Close.
func TestCloseWhileReconnecting(t *testing.T) {
	ts := newTestService()
	ts.lease = 400 * time.Millisecond
	s1 := startServer(t, ts, loopback(), rpc.ServerOptions{})
	var cl *rpc.Client
	ready, closed := make(chan struct{}), make(chan struct{})
	cl = connect(t, rpc.ClientOptions{OnSession: func(_ *wire.HelloReply, reconnect bool) {
		if !reconnect {
			return
		}
		<-ready
		go func() { cl.Close(); close(closed) }()
		// Close has begun once calls fail with ErrClosed.
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			err := echo(ctx, cl, "x")
			cancel()
			if errors.Is(err, rpc.ErrClosed) {
				return
			}
		}
	}}, s1.addr)
	close(ready)
	s1.close(t)
	recv(t, ts.detach, "the first connection to end")
	startServer(t, ts, s1.addr, rpc.ServerOptions{})
	recv(t, closed, "Close")
	recv(t, ts.detach, "the connection opened during Close to end")
}
