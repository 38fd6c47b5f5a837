package appliancetest

import (
	"os"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testmount"
	"golang.org/x/sys/unix"
)

// benchMount is one remote mount of a fresh `ferry serve` with a file f.
func benchMount(b *testing.B) (*testmount.Remote, *os.File) {
	testmount.RequireFUSE(b)
	svc := testmount.StartServe(b, testmount.ServeOptions{Lease: 10 * time.Second})
	m := testmount.NewRemote(b, svc.Addr, testmount.RemoteOptions{})
	f, err := os.OpenFile(m.Path("f"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return m, f
}

// BenchmarkFlockRemote is a flock(LOCK_EX) and flock(LOCK_UN) on a
// remote mount: two round trips to the service, each made durable before
// its reply.
func BenchmarkFlockRemote(b *testing.B) {
	_, f := benchMount(b)
	b.ResetTimer()
	for range b.N {
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
			b.Fatal(err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_UN); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenCloseRemote opens and closes a file read-only on a remote
// mount: with shared locks the close sends FLUSH, which the client
// answers without a round trip while the process holds no lock.
func BenchmarkOpenCloseRemote(b *testing.B) {
	m, _ := benchMount(b)
	b.ResetTimer()
	for range b.N {
		g, err := os.Open(m.Path("f"))
		if err != nil {
			b.Fatal(err)
		}
		g.Close()
	}
}
