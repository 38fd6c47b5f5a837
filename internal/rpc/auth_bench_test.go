package rpc_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/ferryfs/ferry/internal/rpc"
)

// BenchmarkAuth measures, for each way a listener admits clients, a call
// on an open session (TLS encrypts every frame) and a whole connect
// (dial, handshake, token, Hello).
func BenchmarkAuth(b *testing.B) {
	p := newPKI(b, "bench")
	tlsOnly := p.serverPolicy().TLS
	for _, c := range []struct {
		name   string
		policy rpc.Policy
		cr     *rpc.Credentials
	}{
		{"none", rpc.Policy{}, nil},
		{"token", rpc.Policy{Token: []byte(goodToken)}, &rpc.Credentials{Token: staticToken(goodToken)}},
		{"TLS+token", rpc.Policy{TLS: tlsOnly, Token: []byte(goodToken)}, &rpc.Credentials{TLS: p.clientTLS(nil), Token: staticToken(goodToken)}},
		{"mutualTLS", p.serverPolicy(), &rpc.Credentials{TLS: p.clientTLS(p.client)}},
	} {
		b.Run("call/"+c.name, func(b *testing.B) {
			s := benchServer(b, c.policy)
			cl, err := rpc.Connect(context.Background(), rpc.ClientOptions{Addrs: []rpc.Addr{s}, Credentials: c.cr})
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			b.ResetTimer()
			for range b.N {
				if err := echo(context.Background(), cl, "0123456789abcdef0123456789abcdef"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("connect/"+c.name, func(b *testing.B) {
			s := benchServer(b, c.policy)
			b.ResetTimer()
			for range b.N {
				cl, err := rpc.Connect(context.Background(), rpc.ClientOptions{Addrs: []rpc.Addr{s}, Credentials: c.cr})
				if err != nil {
					b.Fatal(err)
				}
				cl.Close()
			}
		})
	}
}

// benchServer serves a test service on loopback, guarded by p.
func benchServer(b *testing.B, p rpc.Policy) rpc.Addr {
	ts := newTestService()
	go func() { // the service records every detach; nobody reads them here
		for {
			select {
			case <-ts.detach:
			case <-ts.quit:
				return
			}
		}
	}()
	ln, err := rpc.Listen(loopback())
	if err != nil {
		b.Fatal(err)
	}
	gl, err := rpc.Guard(ln, p, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	srv := rpc.NewServer(rpc.ServerOptions{Accept: ts.accept})
	go srv.Serve(gl)
	b.Cleanup(func() {
		ts.stop()
		srv.Close()
	})
	return rpc.Addr{Scheme: "tcp", Host: ln.Addr().String()}
}
