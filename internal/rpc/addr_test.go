package rpc_test

import (
	"context"
	"golang.org/x/sys/unix"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/rpc"
)

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in      string
		want    rpc.Addr
		str     string // want.String(); "" means in
		wantErr string // a part of the error; "" means none
	}{
		{in: "tcp://127.0.0.1:7070", want: rpc.Addr{Scheme: "tcp", Host: "127.0.0.1:7070"}},
		{in: "tcp://host.example:1", want: rpc.Addr{Scheme: "tcp", Host: "host.example:1"}},
		{in: "tcp://:7070", want: rpc.Addr{Scheme: "tcp", Host: ":7070"}},
		{in: "tcp://127.0.0.1:0", want: rpc.Addr{Scheme: "tcp", Host: "127.0.0.1:0"}},
		{in: "tcp://[::1]:7070", want: rpc.Addr{Scheme: "tcp", Host: "[::1]:7070"}},
		{in: "tcp://h:65535", want: rpc.Addr{Scheme: "tcp", Host: "h:65535"}},
		{in: "ferry://h:7070", want: rpc.Addr{Scheme: "tcp", Host: "h:7070"}, str: "tcp://h:7070"},
		{in: "unix:///run/ferry.sock", want: rpc.Addr{Scheme: "unix", Host: "/run/ferry.sock"}},
		{in: "vsock://3:5000", want: rpc.Addr{Scheme: "vsock", CID: 3, Port: 5000}},
		{in: "vsock://4294967295:4294967295", want: rpc.Addr{Scheme: "vsock", CID: 1<<32 - 1, Port: 1<<32 - 1}},

		{in: "", wantErr: "want tcp://HOST:PORT"},
		{in: "localhost:7070", wantErr: "want tcp://HOST:PORT"},
		{in: "/run/ferry.sock", wantErr: "want tcp://HOST:PORT"},
		{in: "http://h:80", wantErr: `unknown scheme "http"`},
		{in: "TCP://h:1", wantErr: `unknown scheme "TCP"`},
		{in: "tcp://", wantErr: "missing port"},
		{in: "tcp://h", wantErr: "missing port"},
		{in: "tcp://h:", wantErr: `port ""`},
		{in: "tcp://h:abc", wantErr: `port "abc"`},
		{in: "tcp://h:-1", wantErr: `port "-1"`},
		{in: "tcp://h:65536", wantErr: `port "65536"`},
		{in: "tcp://h:1/path", wantErr: `port "1/path"`},
		{in: "tcp://::1:7070", wantErr: "too many colons"},
		{in: "unix://", wantErr: "unix:///absolute/path"},
		{in: "unix://relative.sock", wantErr: "unix:///absolute/path"},
		{in: "vsock://3", wantErr: "vsock://CID:PORT"},
		{in: "vsock://x:1", wantErr: "vsock://CID:PORT"},
		{in: "vsock://3:y", wantErr: "vsock://CID:PORT"},
		{in: "vsock://-1:1", wantErr: "vsock://CID:PORT"},
		{in: "vsock://4294967296:1", wantErr: "vsock://CID:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := rpc.ParseAddr(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseAddr(%q) = %+v, want an error with %q", tt.in, got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.in) {
					t.Fatalf("ParseAddr(%q) error %q: want it to name the input and say %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAddr(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseAddr(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if got.String() != str {
				t.Fatalf("String() = %q, want %q", got.String(), str)
			}
			// What String prints parses back to the same address.
			if again, err := rpc.ParseAddr(got.String()); err != nil || again != got {
				t.Fatalf("ParseAddr(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseAddrs(t *testing.T) {
	tcp := func(h string) rpc.Addr { return rpc.Addr{Scheme: "tcp", Host: h} }
	tests := []struct {
		in      string
		want    []rpc.Addr
		wantErr string
	}{
		{in: "ferry://h1:1", want: []rpc.Addr{tcp("h1:1")}},
		{in: "ferry://h1:1,h2:2", want: []rpc.Addr{tcp("h1:1"), tcp("h2:2")}},
		{in: "tcp://h1:7070,h2:7070,h3:7071", want: []rpc.Addr{tcp("h1:7070"), tcp("h2:7070"), tcp("h3:7071")}},
		{in: "ferry://[::1]:1,[::2]:2", want: []rpc.Addr{tcp("[::1]:1"), tcp("[::2]:2")}},
		{in: "ferry://h1:1,unix:///run/f.sock", want: []rpc.Addr{tcp("h1:1"), {Scheme: "unix", Host: "/run/f.sock"}}},
		{in: "tcp://h1:1,tcp://h2:2", want: []rpc.Addr{tcp("h1:1"), tcp("h2:2")}},
		{in: "vsock://3:1,4:2", want: []rpc.Addr{{Scheme: "vsock", CID: 3, Port: 1}, {Scheme: "vsock", CID: 4, Port: 2}}},
		// A socket path is one path, commas and all.
		{in: "unix:///run/a,b.sock", want: []rpc.Addr{{Scheme: "unix", Host: "/run/a,b.sock"}}},

		{in: "", wantErr: "want tcp://HOST:PORT"},
		{in: "h1:1,h2:2", wantErr: "want tcp://HOST:PORT"},
		{in: "ferry://h1:1,", wantErr: "missing port"},
		{in: "ferry://,h2:2", wantErr: "missing port"},
		{in: "ferry://h1:1,h2", wantErr: "missing port"},
		{in: "ferry://h1:x,h2:2", wantErr: `port "x"`},
		{in: "ferry://h1:1,h2:2/vol", wantErr: `port "2/vol"`},
		{in: "ferry://h1:1,http://h2:2", wantErr: `unknown scheme "http"`},
		{in: "vsock://3:1,4", wantErr: "vsock://CID:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := rpc.ParseAddrs(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAddrs(%q) = %+v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAddrs(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseAddrs(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestListenUnix checks that a unix socket left by a dead process is
// replaced and that a live one is not taken over.
func TestListenUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	a := rpc.Addr{Scheme: "unix", Host: path}

	// A socket file nobody listens on: bind and close without unlinking.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket file: %v", err)
	}

	ln, err := rpc.Listen(a)
	if err != nil {
		t.Fatalf("Listen over a stale socket file: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	if ln2, err := rpc.Listen(a); err == nil {
		ln2.Close()
		t.Fatal("a second Listen on a live socket succeeded")
	} else if !strings.Contains(err.Error(), "address in use") {
		t.Fatalf("second Listen: %v, want address in use", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rpc.Dial(ctx, a)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	c.Close()
}

func TestUnknownScheme(t *testing.T) {
	a := rpc.Addr{Scheme: "sctp", Host: "h:1"}
	if ln, err := rpc.Listen(a); err == nil {
		ln.Close()
		t.Fatal("Listen on an unknown scheme succeeded")
	}
	if c, err := rpc.Dial(context.Background(), a); err == nil {
		c.Close()
		t.Fatal("Dial on an unknown scheme succeeded")
	}
}

// TestVsock runs where the kernel offers vsock loopback (CID 1).
// TestVsock listens on every CID (that needs only the vsock core, which
// /dev/vsock shows) and dials the local CID; where the kernel has no
// loopback transport (vsock_loopback) the dial must fail with a clear
// error instead, and the listener still works and closes.
func TestVsock(t *testing.T) {
	port := 40000 + uint32(os.Getpid()%20000)
	ln, err := rpc.Listen(rpc.Addr{Scheme: "vsock", CID: unix.VMADDR_CID_ANY, Port: port})
	if err != nil {
		if _, serr := os.Stat("/dev/vsock"); serr != nil {
			t.Logf("no vsock in this kernel (%v): the listen error is the test: %v", serr, err)
			if !strings.Contains(err.Error(), "vsock://") {
				t.Fatalf("listen error does not name the address: %v", err)
			}
			return
		}
		t.Fatalf("listen on vsock: %v", err)
	}
	defer ln.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, err = c.Write([]byte("ok"))
			c.Close()
		}
		accepted <- err
	}()
	a := rpc.Addr{Scheme: "vsock", CID: unix.VMADDR_CID_LOCAL, Port: port}
	c, err := rpc.Dial(context.Background(), a)
	if err != nil {
		t.Logf("no vsock loopback transport here; dial fails as it should: %v", err)
		if !strings.Contains(err.Error(), a.String()) {
			t.Fatalf("dial error does not name the address: %v", err)
		}
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "ok" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
}
