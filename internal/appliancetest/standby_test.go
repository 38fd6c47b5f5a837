package appliancetest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/kv/pgkv/pgtest"
	"github.com/ferryfs/ferry/internal/testbin"
	"github.com/ferryfs/ferry/internal/testmount"
)

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serveProc is a `ferry serve` of a volume in an engine, started before
// anything is open on a mount (a fork then inherits no mount file).
type serveProc struct {
	cmd *exec.Cmd
	log string
}

func startServeProc(t *testing.T, metaURL string, port int, name string) *serveProc {
	t.Helper()
	p := &serveProc{log: filepath.Join(t.TempDir(), name+".log")}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p.cmd = exec.Command(testbin.Ferry(t), "serve", "--meta", metaURL,
		"--listen", fmt.Sprintf("tcp://127.0.0.1:%d", port), "--lease", "10s", "--recall-timeout", "1s")
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.logs())
		}
	})
	return p
}

func (p *serveProc) logs() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// await waits until the log holds what, for at most d.
func (p *serveProc) await(t *testing.T, what string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.logs(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log within %v:\n%s", what, d, p.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStandbyTakesOver runs two services of one volume in PostgreSQL: the
// second stands by while the first is active, takes over when the first
// is killed, and the mount, given both addresses, carries on: every file
// written before and after the kill is there, whole.
func TestStandbyTakesOver(t *testing.T) {
	testmount.RequireFUSE(t)
	metaURL := pgtest.FreshURL(t)
	data := t.TempDir()
	if out, err := exec.Command(testbin.Ferry(t), "format", "--meta", metaURL, "--data", data, "standby").CombinedOutput(); err != nil {
		t.Fatalf("format: %v\n%s", err, out)
	}
	pa, pb := freePort(t), freePort(t)
	a := startServeProc(t, metaURL, pa, "a")
	a.await(t, "msg=serving", 30*time.Second)
	b := startServeProc(t, metaURL, pb, "b")
	b.await(t, "standing by", 30*time.Second)

	m := testmount.NewRemote(t, fmt.Sprintf("ferry://127.0.0.1:%d,127.0.0.1:%d", pa, pb), testmount.RemoteOptions{Patience: 90 * time.Second})
	content := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 1000+i*37) }
	write := func(i int) {
		t.Helper()
		f, err := os.Create(m.Path(fmt.Sprintf("f%02d", i)))
		if err == nil {
			_, err = f.Write(content(i))
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
	}
	for i := range 20 {
		write(i)
	}
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()
	// The writes after the kill wait for the standby, they do not fail.
	for i := 20; i < 40; i++ {
		write(i)
	}
	b.await(t, "this service holds the volume", time.Second)
	b.await(t, "msg=serving", time.Second)
	for i := range 40 {
		got, err := os.ReadFile(m.Path(fmt.Sprintf("f%02d", i)))
		if err != nil || !bytes.Equal(got, content(i)) {
			t.Fatalf("file %d after the takeover: %d bytes, %v; want %d bytes", i, len(got), err, len(content(i)))
		}
	}
	if got := names(t, m.Dir); len(got) != 40 {
		t.Fatalf("%d names after the takeover, want 40: %v", len(got), got)
	}
}
