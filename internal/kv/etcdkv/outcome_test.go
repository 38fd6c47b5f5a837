package etcdkv_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/etcdkv"
)

// TestLostAnswer makes the first commit's answer go missing, after the
// cluster applied it or before the request left, as when a member dies
// with the request in flight. The store must find out which through the
// commit's marker: an applied commit is reported as done (fn ran once), an
// unapplied one is fenced off and run again; either way the counter moves
// by exactly one, and the markers do not pile up.
func TestLostAnswer(t *testing.T) {
	c := sharedCluster(t)
	for _, tc := range []struct {
		name    string
		applied bool // whether the lost commit reaches the cluster
		runs    int
	}{
		{"applied", true, 1},
		{"not applied", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lose atomic.Bool
			lose.Store(true)
			drop := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
				invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
				if method != "/etcdserverpb.KV/Txn" || !lose.CompareAndSwap(true, false) {
					return invoker(ctx, method, req, reply, cc, opts...)
				}
				if tc.applied {
					if err := invoker(ctx, method, req, reply, cc, opts...); err != nil {
						return err
					}
				}
				return status.Error(codes.Unavailable, "test: answer lost")
			}
			prefix := newPrefix("lost")
			s, err := etcdkv.Open(t.Context(), c.URL(prefix), etcdkv.Options{
				DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(drop)},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			runs := 0
			incr := func(tx kv.Txn) error {
				runs++
				n, err := counter(tx)
				if err != nil {
					return err
				}
				tx.Set([]byte("counter"), binary.BigEndian.AppendUint64(nil, n+1))
				return nil
			}
			if err := s.Update(t.Context(), incr); err != nil {
				t.Fatalf("Update with a lost answer: %v", err)
			}
			if lose.Load() {
				t.Fatal("no commit was intercepted")
			}
			if runs != tc.runs {
				t.Fatalf("fn ran %d times, want %d", runs, tc.runs)
			}
			for range 3 {
				if err := s.Update(t.Context(), incr); err != nil {
					t.Fatal(err)
				}
			}
			var n uint64
			if err := s.View(t.Context(), func(r kv.Reader) (err error) { n, err = counter(r); return err }); err != nil || n != 4 {
				t.Fatalf("counter = %d, %v; want 4", n, err)
			}
			resp, err := c.Client(t).Get(t.Context(), prefix+"/:m/c/", clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil {
				t.Fatal(err)
			}
			// The last commit's marker, and a fence for a minute.
			if resp.Count > 2 {
				t.Fatalf("%d markers left after 4 Updates", resp.Count)
			}
		})
	}
}

// TestSwallowedReadError: an Update whose fn ignores a failed read and
// returns nil must not commit, since what it did not read it cannot check.
func TestSwallowedReadError(t *testing.T) {
	c := sharedCluster(t)
	var fail atomic.Bool
	failReads := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method == "/etcdserverpb.KV/Range" && fail.Load() {
			return status.Error(codes.PermissionDenied, "test: read refused")
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	s, err := etcdkv.Open(t.Context(), c.URL(newPrefix("swallow")), etcdkv.Options{
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(failReads)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fail.Store(true)
	err = s.Update(t.Context(), func(tx kv.Txn) error {
		if _, err := tx.Get([]byte("guard")); err == nil {
			return nil // taken: nothing to do
		}
		tx.Set([]byte("w"), []byte("written on a failed read"))
		return nil
	})
	fail.Store(false)
	if err == nil || !strings.Contains(err.Error(), "read refused") {
		t.Fatalf("Update after a swallowed read error = %v, want that error", err)
	}
	if _, gerr := s.Get(t.Context(), []byte("w")); !errors.Is(gerr, kv.ErrNotFound) {
		t.Fatalf("the write was committed (%v)", gerr)
	}
	t.Logf("refused: %v", err)
}
