package crashtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testbin"
	"github.com/ferryfs/ferry/internal/testmount"
)

var killRounds = flag.Int("ferry.killrounds", 4, "rounds of kill -9 of ferry mount")

// TestKillMount kills `ferry mount` with SIGKILL while a workload writes,
// fsyncs, renames and unlinks files, then checks the volume with
// `ferry fsck`, mounts it again and verifies every file whose fsync
// returned.
func TestKillMount(t *testing.T) {
	testmount.RequireFUSE(t)
	t.Parallel()
	bin := testbin.Ferry(t)
	vol := filepath.Join(t.TempDir(), "vol")
	mnt := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	durable := map[string][32]byte{} // name -> sha256 of what its fsync made durable
	for round := 0; round < *killRounds; round++ {
		cmd := startMount(t, bin, vol, mnt)
		verify(t, mnt, durable, round)
		w := &killWorkload{dir: mnt, rng: rand.New(rand.NewPCG(rng.Uint64(), uint64(round))), round: round}
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.run(3 * time.Second)
		}()
		time.Sleep(time.Duration(200+rng.IntN(1200)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		<-done
		// The connection died with the process: detach the dead mount.
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Fatalf("round %d: detaching the dead mount: %v", round, err)
		}
		for name, sum := range w.synced() {
			durable[name] = sum
		}
		for _, name := range w.removed() {
			delete(durable, name)
		}
		fsckAfterCrash(t, bin, vol, round)
		t.Logf("round %d: killed after %d fsyncs; %d files tracked", round, len(w.synced()), len(durable))
	}
	cmd := startMount(t, bin, vol, mnt)
	verify(t, mnt, durable, *killRounds)
	if err := syscall.Unmount(mnt, 0); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ferry mount after umount: %v", err)
	}
	out, err := exec.Command(bin, "fsck", "--verify", vol).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "volume is clean") {
		t.Fatalf("final fsck (%v):\n%s", err, out)
	}
}

// startMount runs `ferry mount` in the foreground as a child process and
// returns once the mount is live.
func startMount(t *testing.T, bin, vol, mnt string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "mount", "--log-level", "warn", vol, mnt)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("ferry mount %s log:\n%s", mnt, stderr.String())
		}
		_ = cmd.Process.Kill()
		_ = syscall.Unmount(mnt, syscall.MNT_DETACH)
	})
	deadline := time.Now().Add(30 * time.Second)
	for !mounted(mnt) {
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			t.Fatalf("ferry mount did not come up: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd
}

func mounted(mnt string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && fields[4] == mnt {
			return true
		}
	}
	return false
}

// fsckAfterCrash runs fsck: the metadata must be consistent; objects
// uploaded but never committed may be reported and are then repaired.
func fsckAfterCrash(t *testing.T, bin, vol string, round int) {
	t.Helper()
	out, err := exec.Command(bin, "fsck", vol).CombinedOutput()
	if strings.Contains(string(out), "metadata:") || strings.Contains(string(out), "missing") {
		t.Fatalf("round %d: fsck after kill -9 found damage (%v):\n%s", round, err, out)
	}
	if err != nil {
		out, err = exec.Command(bin, "fsck", "--repair", vol).CombinedOutput()
		if err != nil {
			t.Fatalf("round %d: fsck --repair: %v\n%s", round, err, out)
		}
		out, err = exec.Command(bin, "fsck", vol).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "volume is clean") {
			t.Fatalf("round %d: not clean after repair (%v):\n%s", round, err, out)
		}
	}
}

func verify(t *testing.T, mnt string, durable map[string][32]byte, round int) {
	t.Helper()
	for name, sum := range durable {
		data, err := os.ReadFile(filepath.Join(mnt, name))
		if err != nil {
			t.Fatalf("round %d: fsynced file %s: %v", round, name, err)
		}
		if sha256.Sum256(data) != sum {
			t.Fatalf("round %d: fsynced file %s has other contents (%d bytes)", round, name, len(data))
		}
	}
}

// killWorkload writes files until the file system goes away under it.
type killWorkload struct {
	dir   string
	rng   *rand.Rand
	round int

	mu      sync.Mutex
	durable map[string][32]byte
	gone    []string
}

func (w *killWorkload) synced() map[string][32]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.durable
}

func (w *killWorkload) removed() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gone
}

func (w *killWorkload) run(limit time.Duration) {
	w.durable = map[string][32]byte{}
	end := time.Now().Add(limit)
	for i := 0; i < 10000 && time.Now().Before(end); i++ {
		name := fmt.Sprintf("r%d-%d", w.round, i)
		if err := w.one(name); err != nil {
			return // the server is gone
		}
	}
}

func (w *killWorkload) one(name string) error {
	path := filepath.Join(w.dir, name)
	data := make([]byte, w.rng.IntN(3<<20))
	for i := range data {
		data[i] = byte(w.rng.Uint32())
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	switch w.rng.IntN(4) {
	case 0: // closed without fsync: may or may not survive
		return f.Close()
	case 1: // unlinked while open, then fsynced: must not survive
		if err := os.Remove(path); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	w.mu.Lock()
	w.durable[name] = sum
	w.mu.Unlock()
	if w.rng.IntN(3) == 0 { // rename a durable file and make the rename durable
		to := name + ".moved"
		if err := os.Rename(path, filepath.Join(w.dir, to)); err != nil {
			return err
		}
		w.mu.Lock()
		delete(w.durable, name)
		w.gone = append(w.gone, name)
		w.mu.Unlock()
		d, err := os.Open(w.dir)
		if err != nil {
			return err
		}
		err = d.Sync()
		d.Close()
		if err != nil {
			return err
		}
		w.mu.Lock()
		w.durable[to] = sum
		w.mu.Unlock()
	}
	return nil
}
