package client_test

import (
	"context"
	"testing"

	"github.com/ferryfs/ferry/internal/blob/memblob"
	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/memkv"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/service"
)

// serveOn runs a service over meta on a fresh in-memory store (behind
// wrap, if given) on a loopback listener, as `ferry serve` wires it, after
// prep (if given) has made what the test needs; it stops with the test.
func serveOn(t *testing.T, wrap func(kv.Store) kv.Store, opts service.Options, prep ...func(*meta.FS)) rpc.Addr {
	t.Helper()
	ctx := context.Background()
	var store kv.Store = memkv.New()
	if err := meta.Format(ctx, store, meta.FormatOptions{BlockSize: 1 << 20, UUID: "test-volume"}); err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		store = wrap(store)
	}
	svc := service.New(opts)
	fs, err := meta.New(ctx, store, meta.Options{OnCommit: svc.OnCommit, KeepOrphans: true})
	if err != nil {
		t.Fatal(err)
	}
	svc.Configure(memblob.New(), 1<<20, "test-volume")
	if err := svc.Attach(ctx, fs); err != nil {
		t.Fatal(err)
	}
	for _, p := range prep {
		p(fs)
	}
	srv := rpc.NewServer(rpc.ServerOptions{Accept: svc.Accept})
	ln, err := rpc.Listen(rpc.Addr{Scheme: "tcp", Host: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
		fs.Close()
	})
	return rpc.Addr{Scheme: "tcp", Host: ln.Addr().String()}
}
