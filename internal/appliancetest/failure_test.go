package appliancetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testbin"
	"github.com/ferryfs/ferry/internal/testmount"
)

var pidRe = regexp.MustCompile(`\(pid (\d+),`)

// mountProcess mounts the service's volume with the built binary in a
// process of its own (ferry mount -d) and returns its pid.
func mountProcess(t *testing.T, addr, dir string) int {
	t.Helper()
	out, err := exec.Command(testbin.Ferry(t), "mount", "-d", addr, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("ferry mount -d: %v\n%s", err, out)
	}
	m := pidRe.FindSubmatch(out)
	if m == nil {
		t.Fatalf("ferry mount -d said %q", out)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGKILL)
		syscall.Unmount(dir, syscall.MNT_DETACH)
	})
	return pid
}

func inodesUsed(t *testing.T, dir string) uint64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Files - st.Ffree
}

// A client killed while it holds leases and an open file does not stall
// the others for longer than the recall timeout, and the file only it
// had open after its unlink is reclaimed once its lease period is over.
func TestClientKilled(t *testing.T) {
	testmount.RequireFUSE(t)
	svc := testmount.StartServe(t, testmount.ServeOptions{Lease: 2 * time.Second, RecallTimeout: time.Second})
	a := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	kdir := t.TempDir()
	kpid := mountProcess(t, svc.Addr, kdir)

	if err := os.WriteFile(a.Path("o"), []byte("only the killed client has me open"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kdir, "k"), []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(kdir, "k")); err != nil { // K's kernel caches it
		t.Fatal(err)
	}
	holder := exec.Command("sh", "-c", "exec 3<"+filepath.Join(kdir, "o")+"; echo open; exec sleep 600")
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Process.Kill()
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil || string(buf) != "open\n" {
		t.Fatalf("holder: %q %v", buf, err)
	}
	if err := os.Remove(a.Path("o")); err != nil {
		t.Fatal(err)
	}
	used := inodesUsed(t, a.Dir)

	syscall.Kill(kpid, syscall.SIGKILL)
	holder.Process.Kill()
	holder.Wait()

	// K holds a lease on k and will never acknowledge its recall.
	start := time.Now()
	if err := os.Chmod(a.Path("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("chmod of a file the killed client cached returned after %v", took.Round(time.Millisecond))
	if took > 15*time.Second {
		t.Fatalf("chmod took %v: the dead client's recall was not bounded", took)
	}
	deadline := time.Now().Add(15 * time.Second)
	for inodesUsed(t, a.Dir) >= used {
		if time.Now().After(deadline) {
			t.Fatalf("the open unlinked file of the killed client was not reclaimed (inodes in use %d)\n%s", inodesUsed(t, a.Dir), svc.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The session's end is logged once its opens are released.
	for !strings.Contains(svc.Logs(), "why=expired") {
		if time.Now().After(deadline) {
			t.Fatalf("the service log does not say the killed client's session expired")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two clients change one shared directory at once: every change
// succeeds, nobody waits for a recall timeout (no session expires), and
// both end with the same view.
func TestRecallUnderLoad(t *testing.T) {
	svc := testmount.StartServe(t, testmount.ServeOptions{Lease: 5 * time.Second, RecallTimeout: 5 * time.Second})
	a := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	b := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	if err := os.Mkdir(a.Path("shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	stop := time.Now().Add(3 * time.Second)
	for i, m := range []*testmount.Remote{a, a, b, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := m.Path("shared")
			for n := 0; n < 5000 && time.Now().Before(stop); n++ {
				p := filepath.Join(dir, fmt.Sprintf("w%d-%d", i, n))
				if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
					errs <- err
					return
				}
				if n%3 == 0 {
					if err := os.Rename(p, p+".r"); err != nil {
						errs <- err
						return
					}
				}
				if n%5 == 0 {
					os.ReadDir(dir)
				}
				if n%7 == 0 {
					if err := os.Remove(filepath.Join(dir, fmt.Sprintf("w%d-%d", i, n-1))); err != nil && n > 0 && (n-1)%3 != 0 {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	na, nb := names(t, a.Path("shared")), names(t, b.Path("shared"))
	if !slices.Equal(na, nb) {
		t.Fatalf("the clients list the shared directory differently: %d against %d names", len(na), len(nb))
	}
	t.Logf("%d names in the shared directory", len(na))
	if strings.Contains(svc.Logs(), "why=expired") {
		t.Fatalf("a session expired under load: a recall waited out its timeout\n%s", svc.Logs())
	}
}

// A mount whose service is replaced by one serving another volume at the
// same address refuses it: its calls wait, then fail with EIO, and never
// reach the other volume.
func TestForeignVolumeAtSameAddress(t *testing.T) {
	svc := testmount.StartServe(t, testmount.ServeOptions{})
	m := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{Patience: 2 * time.Second})
	if err := os.WriteFile(m.Path("mine"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	svc.Kill(t)
	other := testmount.StartServe(t, testmount.ServeOptions{Listen: svc.Addr})
	if err := os.WriteFile(m.Path("stray"), []byte("y"), 0o644); !errors.Is(err, syscall.EIO) {
		t.Fatalf("write through a mount whose service now serves another volume: %v, want EIO", err)
	}
	o := testmount.NewRemote(t, other.Addr, testmount.RemoteOptions{})
	if got := names(t, o.Dir); len(got) != 0 {
		t.Fatalf("the other volume holds %v", got)
	}
	o.Close(t)
	// The mount's own service comes back: the mount carries on.
	other.Stop(t)
	svc.Restart(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, err := os.ReadFile(m.Path("mine"))
		if err == nil && string(b) == "x" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after its service came back: %q, %v", b, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
