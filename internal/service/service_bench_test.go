package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// The getattr round trip: one client, loopback TCP, the real service over
// meta on the in-memory store. The budget is 30 µs at p50 for the
// sequential call.
//
//	go test -run xxx -bench RoundTrip -benchtime 20000x -count 5 ./internal/service

// BenchmarkGetattrRoundTrip makes one getattr of the root at a time and
// reports the median and 99th percentile of the calls' latencies.
func BenchmarkGetattrRoundTrip(b *testing.B) {
	e := newEnv(b, 10*time.Second, 5*time.Second)
	cl := e.connect(b, "bench", true).cl
	ctx := context.Background()
	req := &wire.Ino{Ino: meta.RootIno}
	var reply wire.AttrReply
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := cl.Call(ctx, wire.OpGetAttr, req, &reply); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	if reply.Attr.Ino != meta.RootIno {
		b.Fatalf("getattr answered %+v", reply.Attr)
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Microsecond) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkGetattrRoundTripParallel makes getattrs of the root from
// GOMAXPROCS goroutines over the one connection and reports the calls
// answered per second.
func BenchmarkGetattrRoundTripParallel(b *testing.B) {
	e := newEnv(b, 10*time.Second, 5*time.Second)
	cl := e.connect(b, "bench", true).cl
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := &wire.Ino{Ino: meta.RootIno}
		var reply wire.AttrReply
		for pb.Next() {
			if err := cl.Call(ctx, wire.OpGetAttr, req, &reply); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
