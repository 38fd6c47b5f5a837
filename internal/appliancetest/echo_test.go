package appliancetest

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// echoEnv makes the test binary, started again with it set to an
// address, an echo server of 32-byte messages on that address: the
// baseline of BenchmarkGetattrAcrossProcesses, two Go processes and
// nothing else.
const echoEnv = "FERRY_TEST_ECHO"

func TestMain(m *testing.M) {
	if os.Getenv(lockerEnv) != "" {
		lockerMain()
		return
	}
	if addr := os.Getenv(echoEnv); addr != "" {
		echoServe(addr)
		return
	}
	os.Exit(m.Run())
}

func echoServe(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.Exit(1)
	}
	os.Stdout.WriteString(ln.Addr().String() + "\n")
	c, err := ln.Accept()
	if err != nil {
		os.Exit(1)
	}
	buf := make([]byte, 32)
	for {
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// BenchmarkTCPRoundTripAcrossProcesses is the floor under a getattr to
// another process: 32 bytes each way between two Go processes on
// loopback TCP.
func BenchmarkTCPRoundTripAcrossProcesses(b *testing.B) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), echoEnv+"=127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	c, err := net.Dial("tcp", addr[:len(addr)-1])
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 32)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, msg); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}
