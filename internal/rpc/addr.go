package rpc

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Addr is where a service listens or a client connects:
// tcp://HOST:PORT, unix:///PATH or vsock://CID:PORT.
type Addr struct {
	Scheme string // "tcp", "unix" or "vsock"
	Host   string // tcp: host:port; unix: the socket path
	CID    uint32 // vsock
	Port   uint32 // vsock
}

func (a Addr) String() string {
	switch a.Scheme {
	case "unix":
		return "unix://" + a.Host
	case "vsock":
		return fmt.Sprintf("vsock://%d:%d", a.CID, a.Port)
	}
	return "tcp://" + a.Host
}

// ParseAddr parses a listen or connect address. ferry:// is tcp://.
func ParseAddr(s string) (Addr, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return Addr{}, fmt.Errorf("address %q: want tcp://HOST:PORT, unix:///PATH or vsock://CID:PORT", s)
	}
	switch scheme {
	case "tcp", "ferry":
		_, port, err := net.SplitHostPort(rest)
		if err != nil {
			return Addr{}, fmt.Errorf("address %q: %v", s, err)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return Addr{}, fmt.Errorf("address %q: port %q is not a number from 0 to 65535", s, port)
		}
		return Addr{Scheme: "tcp", Host: rest}, nil
	case "unix":
		if rest == "" || !strings.HasPrefix(rest, "/") {
			return Addr{}, fmt.Errorf("address %q: want unix:///absolute/path", s)
		}
		return Addr{Scheme: "unix", Host: rest}, nil
	case "vsock":
		c, p, ok := strings.Cut(rest, ":")
		cid, err1 := strconv.ParseUint(c, 10, 32)
		port, err2 := strconv.ParseUint(p, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return Addr{}, fmt.Errorf("address %q: want vsock://CID:PORT with numbers", s)
		}
		return Addr{Scheme: "vsock", CID: uint32(cid), Port: uint32(port)}, nil
	}
	return Addr{}, fmt.Errorf("address %q: unknown scheme %q (tcp, unix, vsock)", s, scheme)
}

// ParseAddrs parses a comma-separated list of addresses of one service
// (its active and standby instances): ferry://h1:7070,h2:7070. An entry
// without a scheme has the one before it; an entry may name its own
// (ferry://h1:7070,unix:///run/ferry.sock). A unix socket path takes the
// rest of the list: it may hold commas.
func ParseAddrs(s string) ([]Addr, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		_, err := ParseAddr(s)
		return nil, err
	}
	var as []Addr
	for {
		entry, more, found := rest, "", false
		if scheme != "unix" {
			entry, more, found = strings.Cut(rest, ",")
		}
		a, err := ParseAddr(scheme + "://" + entry)
		if err != nil {
			return nil, err
		}
		as = append(as, a)
		if !found {
			return as, nil
		}
		rest = more
		if sch, r, ok := strings.Cut(rest, "://"); ok && !strings.ContainsAny(sch, ",:/[") {
			scheme, rest = sch, r
		}
	}
}

// Listen listens on a.
func Listen(a Addr) (net.Listener, error) {
	switch a.Scheme {
	case "tcp":
		return net.Listen("tcp", a.Host)
	case "unix":
		// A socket file left by a process that died is in the way; a live
		// one answers, and then the address is in use.
		if c, err := net.Dial("unix", a.Host); err == nil {
			c.Close()
			return nil, fmt.Errorf("listen %s: address in use", a)
		}
		os.Remove(a.Host)
		return net.Listen("unix", a.Host)
	case "vsock":
		return listenVsock(a)
	}
	return nil, fmt.Errorf("listen %s: unknown scheme", a)
}

// Dial connects to a.
func Dial(ctx context.Context, a Addr) (net.Conn, error) {
	var d net.Dialer
	switch a.Scheme {
	case "tcp":
		c, err := d.DialContext(ctx, "tcp", a.Host)
		if err == nil {
			c.(*net.TCPConn).SetNoDelay(true)
		}
		return c, err
	case "unix":
		return d.DialContext(ctx, "unix", a.Host)
	case "vsock":
		return dialVsock(a)
	}
	return nil, fmt.Errorf("dial %s: unknown scheme", a)
}

// vsock sockets are outside what package net wraps (net.FileConn refuses
// their address family), so they are served as os.Files, which the
// runtime poller drives all the same (deadlines, no thread per call).

func listenVsock(a Addr) (net.Listener, error) {
	fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", a, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrVM{CID: a.CID, Port: a.Port}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("listen %s: %w", a, err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("listen %s: %w", a, err)
	}
	return &vsockListener{f: os.NewFile(uintptr(fd), a.String()), addr: a}, nil
}

func dialVsock(a Addr) (net.Conn, error) {
	fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", a, err)
	}
	if err := unix.Connect(fd, &unix.SockaddrVM{CID: a.CID, Port: a.Port}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("dial %s: %w", a, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("dial %s: %w", a, err)
	}
	return &vsockConn{File: os.NewFile(uintptr(fd), a.String()), local: a, remote: a}, nil
}

type vsockListener struct {
	f    *os.File
	addr Addr
}

func (l *vsockListener) Accept() (net.Conn, error) {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nfd int
	var aerr error
	var peer unix.Sockaddr
	err = rc.Read(func(fd uintptr) bool {
		nfd, peer, aerr = unix.Accept4(int(fd), unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK)
		return aerr != unix.EAGAIN
	})
	if err == nil {
		err = aerr
	}
	if err != nil {
		return nil, err
	}
	remote := Addr{Scheme: "vsock"}
	if vm, ok := peer.(*unix.SockaddrVM); ok {
		remote.CID, remote.Port = vm.CID, vm.Port
	}
	return &vsockConn{File: os.NewFile(uintptr(nfd), remote.String()), local: l.addr, remote: remote}, nil
}

func (l *vsockListener) Close() error   { return l.f.Close() }
func (l *vsockListener) Addr() net.Addr { return vsockAddr(l.addr) }

// vsockConn is a connected vsock socket.
type vsockConn struct {
	*os.File
	local, remote Addr
}

func (c *vsockConn) LocalAddr() net.Addr  { return vsockAddr(c.local) }
func (c *vsockConn) RemoteAddr() net.Addr { return vsockAddr(c.remote) }

// vsockAddr is a vsock address as net.Addr.
type vsockAddr Addr

func (a vsockAddr) Network() string { return "vsock" }
func (a vsockAddr) String() string  { return fmt.Sprintf("%d:%d", a.CID, a.Port) }
