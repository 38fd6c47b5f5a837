package rpc_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ferryfs/ferry/internal/certs"
	"github.com/ferryfs/ferry/internal/rpc"
)

// logBuffer collects a logger's lines for a test to check.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the lines that contain every one of want.
func (l *logBuffer) lines(want ...string) []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		ok := line != ""
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

func newLog(level slog.Level) (*slog.Logger, *logBuffer) {
	var b logBuffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: level})), &b
}

// pki is a CA with what it signed, made once per test.
type pki struct {
	ca, server, client *certs.Pair
}

func issue(t testing.TB, r certs.Request, ca *certs.Pair) *certs.Pair {
	t.Helper()
	p, err := certs.Issue(r, ca)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newPKI(t testing.TB, name string) *pki {
	ca := issue(t, certs.Request{Kind: certs.CA, Name: name + " CA"}, nil)
	return &pki{
		ca:     ca,
		server: issue(t, certs.Request{Kind: certs.Server, Name: "server", Hosts: []string{"127.0.0.1", "localhost"}}, ca),
		client: issue(t, certs.Request{Kind: certs.Client, Name: "alice"}, ca),
	}
}

func tlsCert(p *certs.Pair) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{p.Cert.Raw}, PrivateKey: p.Key, Leaf: p.Cert}
}

func (p *pki) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.Cert)
	return pool
}

// serverPolicy is mutual TLS with p's server certificate and CA.
func (p *pki) serverPolicy() rpc.Policy {
	return rpc.Policy{TLS: &tls.Config{Certificates: []tls.Certificate{tlsCert(p.server)}}, ClientCAs: p.pool()}
}

// clientTLS trusts p's CA and presents cert, if any.
func (p *pki) clientTLS(cert *certs.Pair) *tls.Config {
	cfg := &tls.Config{RootCAs: p.pool()}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{tlsCert(cert)}
	}
	return cfg
}

// startGuarded serves ts on a loopback address guarded by p, logging to
// log.
func startGuarded(t *testing.T, ts *testService, a rpc.Addr, p rpc.Policy, log *slog.Logger) *server {
	t.Helper()
	ln, err := rpc.Listen(a)
	if err != nil {
		t.Fatal(err)
	}
	if a.Scheme == "tcp" {
		a.Host = ln.Addr().String()
	}
	gl, err := rpc.Guard(ln, p, log)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{srv: rpc.NewServer(rpc.ServerOptions{Accept: ts.accept, Logger: log}), addr: a, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(gl) }()
	t.Cleanup(func() {
		ts.stop()
		s.srv.Close()
	})
	return s
}

func staticToken(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}
