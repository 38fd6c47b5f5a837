package rpc_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/certs"
	"github.com/ferryfs/ferry/internal/rpc"
)

const goodToken = "0123456789abcdef-the-right-one"

// TestAuthAdmits checks that a client with the credentials a listener
// asks for opens a session and makes calls, over TCP and a unix socket.
func TestAuthAdmits(t *testing.T) {
	p := newPKI(t, "ours")
	tlsOnly := rpc.Policy{TLS: p.serverPolicy().TLS}
	tests := []struct {
		name   string
		policy rpc.Policy
		cr     *rpc.Credentials
	}{
		{"mutual TLS", p.serverPolicy(), &rpc.Credentials{TLS: p.clientTLS(p.client)}},
		{"TLS + token", rpc.Policy{TLS: tlsOnly.TLS, Token: []byte(goodToken)}, &rpc.Credentials{TLS: p.clientTLS(nil), Token: staticToken(goodToken)}},
		{"token on loopback", rpc.Policy{Token: []byte(goodToken)}, &rpc.Credentials{Token: staticToken(goodToken)}},
		{"none", rpc.Policy{}, nil},
		{"a token to a listener that asks none", rpc.Policy{}, &rpc.Credentials{Token: staticToken(goodToken)}},
		{"mutual TLS + token", rpc.Policy{TLS: tlsOnly.TLS, ClientCAs: p.pool(), Token: []byte(goodToken)},
			&rpc.Credentials{TLS: p.clientTLS(p.client), Token: staticToken(goodToken)}},
	}
	for _, tt := range tests {
		for _, tr := range transports[:2] {
			t.Run(tt.name+"/"+tr.name, func(t *testing.T) {
				cr := tt.cr
				if cr != nil && cr.TLS != nil && tr.name == "unix" {
					cfg := cr.TLS.Clone()
					cfg.ServerName = "localhost"
					cr = &rpc.Credentials{TLS: cfg, Token: cr.Token}
				}
				log, logs := newLog(slog.LevelDebug)
				s := startGuarded(t, newTestService(), tr.addr(t), tt.policy, log)
				cl := connect(t, rpc.ClientOptions{Credentials: cr}, s.addr)
				if err := echo(bounded(t), cl, "hello"); err != nil {
					t.Fatal(err)
				}
				if got := logs.lines(`msg="client admitted"`, "by=", tt.policy.String()); len(got) != 1 {
					t.Errorf("want one line saying it admitted the client by %s; log:\n%s", tt.policy, logs)
				}
			})
		}
	}
}

// TestAuthRefuses checks every way a listener refuses a client: the
// client fails at once with a permanent error that says why, the service
// logs one line with the client's address and the reason, and no session
// was opened.
func TestAuthRefuses(t *testing.T) {
	ours, theirs := newPKI(t, "ours"), newPKI(t, "theirs")
	expired := issue(t, certs.Request{Kind: certs.Client, Name: "late", Now: time.Now().Add(-48 * time.Hour), Lifetime: time.Hour}, ours.ca)
	tlsOnly := rpc.Policy{TLS: ours.serverPolicy().TLS}
	tests := []struct {
		name   string
		policy rpc.Policy
		cr     *rpc.Credentials
		client string // what the client's error says
		server string // the reason the service logs; "" for none
	}{
		{"certificate of another CA", ours.serverPolicy(), &rpc.Credentials{TLS: ours.clientTLS(theirs.client)},
			`client certificate "alice": x509: certificate signed by unknown authority`, "signed by unknown authority"},
		{"no certificate", ours.serverPolicy(), &rpc.Credentials{TLS: ours.clientTLS(nil)},
			"refused the session: no client certificate", "no client certificate"},
		{"expired certificate", ours.serverPolicy(), &rpc.Credentials{TLS: ours.clientTLS(expired)},
			"x509: certificate has expired", "certificate has expired"},
		{"server certificate as a client's", ours.serverPolicy(), &rpc.Credentials{TLS: ours.clientTLS(ours.server)},
			"incompatible key usage", "incompatible key usage"},
		{"no TLS to a TLS listener", ours.serverPolicy(), nil,
			"this listener speaks TLS and the client does not", "speaks TLS and the client does not"},
		{"TLS to a plain listener", rpc.Policy{}, &rpc.Credentials{TLS: ours.clientTLS(ours.client)},
			"does not speak TLS at this address", "the client speaks TLS and this listener does not"},
		{"untrusted service", ours.serverPolicy(), &rpc.Credentials{TLS: theirs.clientTLS(ours.client)},
			"the service's certificate is not trusted: x509: certificate signed by unknown authority", "TLS handshake"},
		{"wrong token", rpc.Policy{TLS: tlsOnly.TLS, Token: []byte(goodToken)}, &rpc.Credentials{TLS: ours.clientTLS(nil), Token: staticToken("0123456789abcdef-a-wrong-one")},
			"refused the session: bad token", "bad token"},
		{"no token", rpc.Policy{TLS: tlsOnly.TLS, Token: []byte(goodToken)}, &rpc.Credentials{TLS: ours.clientTLS(nil)},
			"refused the session: no token", "no token"},
		{"wrong token in the clear", rpc.Policy{Token: []byte(goodToken)}, &rpc.Credentials{Token: staticToken("a wrong one, longer")},
			"refused the session: bad token", "bad token"},
		{"no token in the clear", rpc.Policy{Token: []byte(goodToken)}, nil,
			"refused the session: no token", "no token"},
		{"token a prefix of the right one", rpc.Policy{Token: []byte(goodToken)}, &rpc.Credentials{Token: staticToken(goodToken[:20])},
			"bad token", "bad token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestService()
			log, logs := newLog(slog.LevelInfo)
			s := startGuarded(t, ts, loopback(), tt.policy, log)
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			cl, err := rpc.Connect(ctx, rpc.ClientOptions{Addrs: []rpc.Addr{s.addr}, Credentials: tt.cr})
			if err == nil {
				cl.Close()
				t.Fatal("Connect succeeded")
			}
			if !strings.Contains(err.Error(), tt.client) || !rpc.Permanent(err) {
				t.Errorf("Connect: %q (permanent %v), want a permanent error saying %q", err, rpc.Permanent(err), tt.client)
			}
			if ctx.Err() != nil {
				t.Error("Connect waited for its context instead of failing at once")
			}
			// The refusal is logged by the connection's goroutine, which
			// may still be at it when the client has its answer.
			eventually(t, "the service's log line", func() bool {
				return len(logs.lines(`msg="client refused"`, "peer=127.0.0.1:", tt.server)) == 1
			})
			if n := len(logs.lines("client refused")); n != 1 {
				t.Errorf("%d refusal lines, want 1:\n%s", n, logs)
			}
			if n := ts.acceptCount(); n != 0 {
				t.Errorf("the service was asked to accept %d sessions", n)
			}
		})
	}
}

// TestTokenNotSentInTheClear checks that a client does not send a token
// unencrypted off the machine unless told it may, and does not start TLS
// without a name to check the service's certificate against.
func TestTokenNotSentInTheClear(t *testing.T) {
	far := rpc.Addr{Scheme: "vsock", CID: 3, Port: 7070}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := rpc.Connect(ctx, rpc.ClientOptions{Addrs: []rpc.Addr{far}, Credentials: &rpc.Credentials{Token: staticToken(goodToken)}})
	if err == nil || !strings.Contains(err.Error(), "not sending the token unencrypted") || !rpc.Permanent(err) {
		t.Fatalf("Connect: %v, want a permanent refusal to send the token", err)
	}
	p := newPKI(t, "ours")
	_, err = rpc.Connect(ctx, rpc.ClientOptions{Addrs: []rpc.Addr{unixAddr(t)}, Credentials: &rpc.Credentials{TLS: p.clientTLS(nil)}})
	if err == nil || !strings.Contains(err.Error(), "--tls-server-name") || !rpc.Permanent(err) {
		t.Fatalf("TLS to a unix socket without a server name: %v", err)
	}
	for _, tt := range []struct {
		addr  string
		local bool
	}{
		{"tcp://127.0.0.1:1", true}, {"tcp://[::1]:1", true}, {"tcp://localhost:1", true}, {"unix:///run/x", true},
		{"tcp://10.0.0.1:1", false}, {"tcp://0.0.0.0:1", false}, {"tcp://:1", false}, {"tcp://example.com:1", false},
		{"vsock://3:1", false}, {"vsock://1:1", true},
	} {
		a, err := rpc.ParseAddr(tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if a.Local() != tt.local {
			t.Errorf("%s: Local() = %v", tt.addr, a.Local())
		}
	}
}

// TestReconnectAuthenticates checks that every reconnect authenticates
// again: a client whose token went bad while it was disconnected is
// refused, fails its calls at once rather than after its patience, and
// is back once its token is good again.
func TestReconnectAuthenticates(t *testing.T) {
	ts := newTestService()
	log, logs := newLog(slog.LevelDebug)
	policy := rpc.Policy{Token: []byte(goodToken)}
	s1 := startGuarded(t, ts, loopback(), policy, log)
	var mu sync.Mutex
	tok := goodToken
	cr := &rpc.Credentials{Token: func() ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		return []byte(tok), nil
	}}
	clientLog, clog := newLog(slog.LevelInfo)
	cl := connect(t, rpc.ClientOptions{Credentials: cr, Patience: time.Hour, Logger: clientLog}, s1.addr)
	if err := echo(bounded(t), cl, "before"); err != nil {
		t.Fatal(err)
	}
	s1.close(t)
	eventually(t, "the client to notice", func() bool { return !cl.Connected() })
	mu.Lock()
	tok = "0123456789abcdef-gone-bad"
	mu.Unlock()
	startGuarded(t, ts, s1.addr, policy, log)
	eventually(t, "the reconnect to be refused", func() bool { return len(logs.lines("client refused", "bad token")) > 0 })
	// Patience is an hour: a call fails at once only because the refusal
	// is permanent.
	err := echo(bounded(t), cl, "while refused")
	var un *rpc.Unreachable
	if !errors.As(err, &un) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("call while refused: %v, want EIO", err)
	}
	if n := len(clog.lines("level=ERROR", "the service refused this client", "bad token")); n != 1 {
		t.Errorf("the client logged the refusal %d times, want once:\n%s", n, clog)
	}
	mu.Lock()
	tok = goodToken
	mu.Unlock()
	eventually(t, "the client to be back", func() bool { return cl.Connected() })
	if err := echo(bounded(t), cl, "after"); err != nil {
		t.Fatal(err)
	}
	if n := len(logs.lines("client admitted")); n != 2 {
		t.Errorf("%d authentications, want 2 (the connect and the last reconnect):\n%s", n, logs)
	}
}

// TestGuardNeedsTLSForCertificates checks that a policy asking for client
// certificates without TLS is refused.
func TestGuardNeedsTLSForCertificates(t *testing.T) {
	p := newPKI(t, "ours")
	ln, err := rpc.Listen(loopback())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := rpc.Guard(ln, rpc.Policy{ClientCAs: p.pool()}, nil); err == nil {
		t.Fatal("Guard took client CAs without TLS")
	}
	if _, err := rpc.Guard(ln, rpc.Policy{TLS: &tls.Config{}}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestRefusedOnUnixSocket checks that a refusal on a unix socket names
// the process and user at the other end.
func TestRefusedOnUnixSocket(t *testing.T) {
	log, logs := newLog(slog.LevelInfo)
	s := startGuarded(t, newTestService(), unixAddr(t), rpc.Policy{Token: []byte(goodToken)}, log)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := rpc.Connect(ctx, rpc.ClientOptions{Addrs: []rpc.Addr{s.addr}}); !rpc.Permanent(err) {
		t.Fatalf("Connect without a token: %v", err)
	}
	peer := fmt.Sprintf(`peer="unix(pid %d, uid %d)"`, os.Getpid(), os.Getuid())
	eventually(t, "the refusal naming "+peer, func() bool { return len(logs.lines("client refused", peer, "no token")) == 1 })
}
