package appliancetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/testmount"
	"github.com/ferryfs/ferry/internal/wire"
)

// BenchmarkGetattrAcrossProcesses is the round trip of a getattr to a
// real `ferry serve` process over loopback TCP, as a mount makes it: the
// service's own benchmark (internal/service) runs both ends in one
// process, which hides the cost of waking another process.
func BenchmarkGetattrAcrossProcesses(b *testing.B) {
	svc := testmount.StartServe(b, testmount.ServeOptions{})
	addrs, err := rpc.ParseAddrs(svc.Addr)
	if err != nil {
		b.Fatal(err)
	}
	c, err := rpc.Connect(context.Background(), rpc.ClientOptions{Addrs: addrs})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		var r wire.AttrReply
		if err := c.Call(ctx, wire.OpGetAttr, &wire.Ino{Ino: 1}, &r); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}
