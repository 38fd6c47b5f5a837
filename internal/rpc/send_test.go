package rpc_test

import (
	"fmt"
	"testing"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// TestSend: calls sent without waiting are all answered, each once, to
// their own callback; a sent call is sent again after a reconnect.
func TestSend(t *testing.T) {
	ts := newTestService()
	s1 := startServer(t, ts, loopback(), rpc.ServerOptions{})
	cl := connect(t, rpc.ClientOptions{}, s1.addr)

	const n = 64
	got := make(chan error, n)
	for i := range n {
		want := fmt.Sprint("m", i)
		err := cl.Send(opEcho, &wire.Data{B: []byte(want)}, func(p []byte, err error) {
			var d wire.Data
			if err == nil {
				err = wire.DecodeReply(opEcho, p, &d)
			}
			if err == nil && string(d.B) != want {
				err = fmt.Errorf("answer %q to %q", d.B, want)
			}
			got <- err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		if err := recv(t, got, "an answer"); err != nil {
			t.Fatal(err)
		}
	}

	// Gated on the first server, which goes; answered by the second.
	gated := make(chan error, 1)
	if err := cl.Send(opGate, &wire.Empty{}, func(p []byte, err error) {
		if err == nil {
			err = wire.DecodeReply(opGate, p, nil)
		}
		gated <- err
	}); err != nil {
		t.Fatal(err)
	}
	id := recv(t, ts.started, "the gated call")
	closed := make(chan struct{})
	go func() { s1.close(t); close(closed) }()
	eventually(t, "the client to lose its connection", func() bool { return !cl.Connected() })
	close(ts.gate)
	recv(t, closed, "the server to close")
	startServer(t, ts, s1.addr, rpc.ServerOptions{})
	if err := recv(t, gated, "the resent call"); err != nil {
		t.Fatal(err)
	}
	if runs := ts.runsOf(id); runs != 2 {
		t.Fatalf("call ran %d times, want 2 (once per server)", runs)
	}
}
