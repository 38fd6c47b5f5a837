package etcdkv_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/etcdkv"
	"github.com/ferryfs/ferry/internal/kv/pebblekv"
)

// The benchmarks put etcdkv on the shared three-member cluster beside
// pebblekv on the local disk, in the same run:
//
//	go test -run xxx -bench . -benchtime 2000x ./internal/kv/etcdkv/
//
// cpu-ns/op is this process's CPU time per operation (the etcd members'
// is not counted); rpcs/op counts the etcd store's requests to the cluster.

const benchPreload = 1000

// rpcs counts the requests the etcd store of the running benchmark sent.
var rpcs atomic.Int64

// report adds cpu-ns/op and, for etcd, rpcs/op.
func report(b *testing.B, be benchBackend, cpu time.Duration, rpc0 int64) {
	b.ReportMetric(float64(cpuNow(b)-cpu)/float64(b.N), "cpu-ns/op")
	if be.name == "etcd3" {
		b.ReportMetric(float64(rpcs.Load()-rpc0)/float64(b.N), "rpcs/op")
	}
}

type benchBackend struct {
	name string
	open func(b *testing.B) kv.Store
}

func benchBackends() []benchBackend {
	return []benchBackend{
		{"etcd3", func(b *testing.B) kv.Store {
			rpcs.Store(0)
			url := sharedCluster(b).URL(newPrefix("bench"))
			s, err := etcdkv.Open(b.Context(), url, etcdkv.Options{DialOptions: []grpc.DialOption{
				grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any,
					cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
					rpcs.Add(1)
					return invoker(ctx, method, req, reply, cc, opts...)
				}),
			}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
		{"pebble", func(b *testing.B) kv.Store {
			s, err := pebblekv.Open(b.TempDir(), pebblekv.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
	}
}

func benchKey(prefix string, n uint64) []byte { return fmt.Appendf(nil, "%s/%016x", prefix, n) }

var benchValue = make([]byte, 100)

func loaded(b *testing.B, be benchBackend) kv.Store {
	s := be.open(b)
	if err := s.Update(b.Context(), func(tx kv.Txn) error {
		for i := range uint64(benchPreload) {
			tx.Set(benchKey("i", i), benchValue)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchEach runs op b.N times on each backend, on a loaded store.
func benchEach(b *testing.B, op func(ctx context.Context, s kv.Store, rng *rand.Rand) error) {
	for _, be := range benchBackends() {
		b.Run(be.name, func(b *testing.B) {
			s := loaded(b, be)
			rng := rand.New(rand.NewPCG(1, 2))
			ctx := context.Background()
			cpu, rpc0 := cpuNow(b), rpcs.Load()
			b.ResetTimer()
			for range b.N {
				if err := op(ctx, s, rng); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			report(b, be, cpu, rpc0)
		})
	}
}

// BenchmarkUpdate runs the shape of a create: read the parent inode, check
// the name and the new inode are free (3 Gets), then write the inode, the
// entry, the parent and a counter (4 Sets).
func BenchmarkUpdate(b *testing.B) {
	benchEach(b, func(ctx context.Context, s kv.Store, rng *rand.Rand) error {
		parent, id := benchKey("i", rng.Uint64N(benchPreload)), rng.Uint64()
		return s.Update(ctx, func(tx kv.Txn) error {
			if _, err := tx.Get(parent); err != nil {
				return err
			}
			name, ino := benchKey("d", id), benchKey("i", benchPreload+id)
			for _, k := range [][]byte{name, ino} {
				if _, err := tx.Get(k); !errors.Is(err, kv.ErrNotFound) {
					return fmt.Errorf("%s taken: %v", k, err)
				}
			}
			tx.Set(ino, benchValue)
			tx.Set(name, benchValue)
			tx.Set(parent, benchValue)
			tx.Set([]byte("counter"), benchValue[:8])
			return nil
		})
	})
}

// BenchmarkGet is a point read of a stored key outside any transaction.
func BenchmarkGet(b *testing.B) {
	benchEach(b, func(ctx context.Context, s kv.Store, rng *rand.Rand) error {
		_, err := s.Get(ctx, benchKey("i", rng.Uint64N(benchPreload)))
		return err
	})
}

func cpuNow(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
