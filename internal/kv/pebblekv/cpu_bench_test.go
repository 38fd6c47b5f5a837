package pebblekv

import (
	"syscall"
	"testing"
	"time"
)

// cpuMeter reports the process CPU time (user + system, every goroutine,
// including Pebble's background work and the garbage collector) per
// operation. On a shared machine this varies far less than wall time.
type cpuMeter struct {
	start time.Duration
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(b *testing.B) cpuMeter { return cpuMeter{start: processCPU(b)} }

func (m cpuMeter) report(b *testing.B) {
	b.ReportMetric(float64(processCPU(b)-m.start)/float64(b.N), "cpu-ns/op")
}
