package rpc_test

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// frameHeader is a frame header announcing length bytes after the length
// field, with any kind, flags and op.
func frameHeader(length uint32, kind wire.Kind, flags uint8, op wire.Op) []byte {
	b := binary.LittleEndian.AppendUint32(nil, length)
	b = append(b, byte(kind), flags)
	b = binary.LittleEndian.AppendUint16(b, uint16(op))
	return binary.LittleEndian.AppendUint64(b, 9)
}

// TestBadFrames writes a bad frame after a valid Hello on a raw
// connection: the service closes that connection, tells its handler why,
// and goes on serving another client.
func TestBadFrames(t *testing.T) {
	tests := []struct {
		name      string
		frame     []byte
		malformed bool // the cause is ErrMalformed; else ErrFrameTooLarge
	}{
		{"text", []byte("GET / HTTP/1.1\r\nHost: ferry\r\n\r\n"), false}, // "GET " is a length of 542 MB
		{"random bytes", []byte("\x0c\x00\x00\x00\xa7\x3f\x91\x00\x12\x34\x56\x78\x9a\xbc\xde\xf0"), true},
		{"unknown kind", frameHeader(12, 9, 0, opEcho), true},
		{"kind zero", frameHeader(12, 0, 0, opEcho), true},
		{"flags set", frameHeader(12, wire.KindCall, 1, opEcho), true},
		{"length below the header", frameHeader(11, wire.KindCall, 0, opEcho), true},
		{"a reply from the client", frameHeader(12, wire.KindReply, 0, opEcho), true},
		{"a push from the client", frameHeader(12, wire.KindPush, 0, opPushed), true},
		{"a second hello", wire.AppendFrame(nil, wire.Header{Kind: wire.KindCall, Op: wire.OpHello, ID: 2},
			wire.Append(nil, &wire.Hello{MinVersion: wire.MinVersion, MaxVersion: wire.Version})), true},
		{"oversized", frameHeader(wire.MaxFrame, wire.KindCall, 0, opEcho), false},
		{"largest length", frameHeader(1<<32-1, wire.KindCall, 0, opEcho), false},
	}
	ts := newTestService()
	s := startServer(t, ts, loopback(), rpc.ServerOptions{})
	good := connect(t, rpc.ClientOptions{}, s.addr)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawHello(t, s.addr)
			// A call before the bad frame is answered.
			call := wire.AppendFrame(nil, wire.Header{Kind: wire.KindCall, Op: opEcho, ID: 5}, wire.Append(nil, &wire.Data{B: []byte("ok")}))
			if _, err := c.Write(call); err != nil {
				t.Fatal(err)
			}
			h, p, err := wire.ReadFrame(c, 0)
			var d wire.Data
			if err != nil || h.Kind != wire.KindReply || h.ID != 5 || wire.DecodeReply(opEcho, p, &d) != nil || string(d.B) != "ok" {
				t.Fatalf("echo on the raw connection: %+v %q %v", h, d.B, err)
			}
			if _, err := c.Write(tt.frame); err != nil {
				t.Fatal(err)
			}
			closedByPeer(t, c)
			cause := recv(t, ts.detach, "Detached")
			if tt.malformed && !wire.IsMalformed(cause) || !tt.malformed && !errors.Is(cause, wire.ErrFrameTooLarge) {
				t.Fatalf("Detached(%v), want ErrMalformed %v", cause, tt.malformed)
			}
			if err := echo(bounded(t), good, tt.name); err != nil {
				t.Fatalf("the other client: %v", err)
			}
		})
	}
	if n := ts.acceptCount(); n != len(tests)+1 {
		t.Fatalf("%d sessions, want %d", n, len(tests)+1)
	}
}

// TestMaxFrame checks the server's own frame limit.
func TestMaxFrame(t *testing.T) {
	ts := newTestService()
	s := startServer(t, ts, loopback(), rpc.ServerOptions{MaxFrame: 1 << 10})
	cl := connect(t, rpc.ClientOptions{}, s.addr)
	if err := echo(bounded(t), cl, "small"); err != nil {
		t.Fatal(err)
	}
	c := rawHello(t, s.addr)
	big := wire.AppendFrame(nil, wire.Header{Kind: wire.KindCall, Op: opEcho, ID: 5}, wire.Append(nil, &wire.Data{B: make([]byte, 2<<10)}))
	if _, err := c.Write(big); err != nil {
		t.Fatal(err)
	}
	closedByPeer(t, c)
	if cause := recv(t, ts.detach, "Detached"); !errors.Is(cause, wire.ErrFrameTooLarge) {
		t.Fatalf("Detached(%v), want ErrFrameTooLarge", cause)
	}
	if err := echo(bounded(t), cl, "still"); err != nil {
		t.Fatal(err)
	}
}

// TestBeforeHello checks what the server does with a connection that
// does not start with a good Hello: it drops it without a session.
func TestBeforeHello(t *testing.T) {
	tests := []struct {
		name  string
		first []byte // nil: send nothing
	}{
		{"silent", nil},
		{"half a header", frameHeader(12, wire.KindCall, 0, wire.OpHello)[:7]},
		{"a call first", wire.AppendFrame(nil, wire.Header{Kind: wire.KindCall, Op: opEcho, ID: 1}, wire.Append(nil, &wire.Data{}))},
		{"malformed hello", wire.AppendFrame(nil, wire.Header{Kind: wire.KindCall, Op: wire.OpHello, ID: 1}, []byte{1, 2, 3})},
		{"hello too large", frameHeader(1<<20, wire.KindCall, 0, wire.OpHello)},
		{"garbage", []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")},
	}
	ts := newTestService()
	s := startServer(t, ts, loopback(), rpc.ServerOptions{HelloTimeout: 50 * time.Millisecond})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := rpc.Dial(bounded(t), s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tt.first != nil {
				if _, err := c.Write(tt.first); err != nil {
					t.Fatal(err)
				}
			}
			closedByPeer(t, c)
		})
	}
	if n := ts.acceptCount(); n != 0 {
		t.Fatalf("%d sessions admitted", n)
	}
	// A client that says Hello in time is served.
	cl := connect(t, rpc.ClientOptions{}, s.addr)
	if err := echo(bounded(t), cl, "hi"); err != nil {
		t.Fatal(err)
	}
}

// TestServerClose checks that Serve returns nil after Close, and that a
// listener given after Close is closed at once.
func TestServerClose(t *testing.T) {
	ts := newTestService()
	s := startServer(t, ts, loopback(), rpc.ServerOptions{})
	cl := connect(t, rpc.ClientOptions{}, s.addr)
	if err := echo(bounded(t), cl, "hi"); err != nil {
		t.Fatal(err)
	}
	s.close(t)
	recv(t, ts.detach, "Detached at Close")
	ln, err := rpc.Listen(loopback())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.srv.Serve(ln); err != nil {
		t.Fatalf("Serve after Close: %v", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("the listener given after Close is open")
	}
}
