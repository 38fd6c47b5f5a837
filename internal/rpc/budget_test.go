package rpc_test

import (
	"testing"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// TestBufferedBytesBounded: calls whose bytes fill a connection's budget
// hold back the reading of its next calls until they are answered, so a
// client that sends faster than it is served costs the service no more
// than the budget.
func TestBufferedBytesBounded(t *testing.T) {
	const budget = 4 << 20
	ts := newTestService()
	s := startServer(t, ts, loopback(), rpc.ServerOptions{MaxBuffered: budget})
	c := rawHello(t, s.addr)
	big := &wire.Data{B: make([]byte, 1<<20-64)} // four fit in the budget, not five
	const calls = 10
	var out []byte
	for i := range calls {
		out = wire.AppendFrame(out, wire.Header{Kind: wire.KindCall, Op: opGate, ID: uint64(10 + i)}, wire.Append(nil, big))
	}
	out = wire.AppendFrame(out, wire.Header{Kind: wire.KindCall, Op: opEcho, ID: 99}, wire.Append(nil, &wire.Data{B: []byte("late")}))
	written := make(chan error, 1)
	go func() { _, err := c.Write(out); written <- err }()
	for range 4 {
		recv(t, ts.started, "a gated call")
	}
	close(ts.gate)
	gated := 0
	for range calls + 1 {
		h, _, err := wire.ReadFrame(c, 0)
		if err != nil {
			t.Fatal(err)
		}
		if h.ID == 99 {
			if gated < 4 {
				t.Fatalf("a call read past a full budget was answered before the %d calls that filled it (%d were)", 4, gated)
			}
			continue
		}
		gated++
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
}
