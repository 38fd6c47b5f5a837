package pgkv_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/pgkv"
)

// bound is how long any failing call may take before the test calls it a
// hang; the calls below fail in milliseconds.
const bound = 30 * time.Second

func openErr(t *testing.T, rawURL string, opts pgkv.Options) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	s, err := pgkv.Open(ctx, rawURL, opts)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) succeeded", pgkv.Redact(rawURL))
	}
	if ctx.Err() != nil {
		t.Fatalf("Open(%s) hung until the test's bound: %v", pgkv.Redact(rawURL), err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	t.Logf("%v", err)
	return err
}

func TestBadPassword(t *testing.T) {
	u, _ := url.Parse(serverURL(t))
	secret := "not-the-password"
	u.User = url.UserPassword(u.User.Username(), secret)
	err := openErr(t, u.String(), pgkv.Options{})
	if !errors.Is(err, pgkv.ErrAuth) || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("bad password: %v; want ErrAuth", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows the password: %v", err)
	}
}

func TestMissingDatabase(t *testing.T) {
	u, _ := url.Parse(serverURL(t))
	u.Path = "/no_such_ferry_db"
	err := openErr(t, u.String(), pgkv.Options{})
	if !errors.Is(err, pgkv.ErrNoDatabase) || !strings.Contains(err.Error(), `database "no_such_ferry_db" does not exist`) {
		t.Errorf("missing database: %v; want ErrNoDatabase", err)
	}
}

// hostPort points rawURL at addr.
func hostPort(t *testing.T, rawURL, addr string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

func TestNoServer(t *testing.T) {
	base := serverURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	err = openErr(t, hostPort(t, base, addr), pgkv.Options{})
	if !errors.Is(err, pgkv.ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") ||
		!strings.Contains(err.Error(), addr) {
		t.Errorf("no server: %v; want ErrUnreachable naming %s", err, addr)
	}
}

// TestSilentServer: a server that accepts connections and never answers
// fails the connection after the connect timeout.
func TestSilentServer(t *testing.T) {
	base := serverURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	err = openErr(t, hostPort(t, base, ln.Addr().String()), pgkv.Options{ConnectTimeout: 200 * time.Millisecond})
	if !errors.Is(err, pgkv.ErrUnreachable) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("silent server: %v; want ErrUnreachable, timed out", err)
	}
}

// proxy forwards loopback connections to the test server until closed.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.kill)
	return p
}

// kill stops listening and cuts every connection, as a dead server would.
func (p *proxy) kill() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestServerDies: once the server is gone every operation fails at once
// with ErrUnreachable, inside a transaction too.
func TestServerDies(t *testing.T) {
	raw := freshURL(t)
	u, _ := url.Parse(raw)
	p := startProxy(t, u.Host)
	s := mustOpen(t, hostPort(t, raw, p.ln.Addr().String()))
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := s.Update(ctx, func(tx kv.Txn) error { tx.Set([]byte("k"), []byte("v")); return nil }); err != nil {
		t.Fatal(err)
	}
	killed := false
	err := s.Update(ctx, func(tx kv.Txn) error {
		if _, err := tx.Get([]byte("k")); err != nil {
			return err
		}
		p.kill()
		killed = true
		_, err := tx.Get([]byte("other"))
		return err
	})
	if !killed || !errors.Is(err, pgkv.ErrUnreachable) {
		t.Errorf("Update across the server's death: %v; want ErrUnreachable", err)
	}
	checks := map[string]error{}
	_, checks["Get"] = s.Get(ctx, []byte("k"))
	checks["View"] = s.View(ctx, func(r kv.Reader) error { _, err := r.Get([]byte("k")); return err })
	checks["Update"] = s.Update(ctx, func(tx kv.Txn) error { tx.Set([]byte("k"), []byte("w")); return nil })
	for op, err := range checks {
		if ctx.Err() != nil {
			t.Fatalf("%s hung until the test's bound", op)
		}
		if !errors.Is(err, pgkv.ErrUnreachable) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), p.ln.Addr().String()) {
			t.Errorf("%s after the server died: %v; want one line, ErrUnreachable, naming the server", op, err)
		}
	}
	t.Logf("after death: %v", checks["Get"])
}

// TestForeignTable: a ferry_kv table of another shape is refused, and
// left alone.
func TestForeignTable(t *testing.T) {
	raw := freshURL(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE TABLE ferry_kv (name text PRIMARY KEY, n int)"); err != nil {
		t.Fatal(err)
	}
	err = openErr(t, raw, pgkv.Options{})
	if !strings.Contains(err.Error(), "not a Ferry store") {
		t.Errorf("foreign table: %v", err)
	}
}
