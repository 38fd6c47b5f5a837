package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testbin"
	"github.com/ferryfs/ferry/internal/testmount"
	"github.com/ferryfs/ferry/internal/volume"
)

// waitTimeout bounds every wait for a mount to appear or a process to end.
const waitTimeout = 30 * time.Second

// mounted reports whether dir is the mount point of a ferry file system.
func mounted(t *testing.T, dir string) bool {
	t.Helper()
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == dir && strings.Contains(line, " fuse.ferry ") {
			return true
		}
	}
	return false
}

// waitFor polls cond every 20ms until it holds or waitTimeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(waitTimeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", waitTimeout, what)
		}
	}
}

// volumeFree reports whether no process holds vol.
func volumeFree(vol string) bool {
	v, err := volume.Open(context.Background(), vol, volume.Options{})
	if err != nil {
		return false
	}
	v.Close()
	return true
}

// forceUnmount is a cleanup for tests that fail with a mount still live.
func forceUnmount(t *testing.T, mnt string) {
	t.Cleanup(func() {
		if mounted(t, mnt) {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
}

// TestBackgroundMount: "mount -d" formats the volume on first use,
// returns once the mount is live, refuses a second mount of the volume,
// and ends cleanly when the user unmounts.
func TestBackgroundMount(t *testing.T) {
	testmount.RequireFUSE(t)
	vol, mnt := filepath.Join(t.TempDir(), "vol"), t.TempDir()
	forceUnmount(t, mnt)
	out := ferryOK(t, "mount", vol, mnt, "-d")
	if !strings.HasPrefix(out, "mounted "+vol+" on "+mnt+" in the background (pid ") {
		t.Errorf("mount -d printed %q", out)
	}
	if !mounted(t, mnt) {
		t.Fatalf("mount -d returned but %s is not mounted", mnt)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := os.WriteFile(filepath.Join(mnt, "f"), data, 0o644); err != nil {
		t.Fatal(err)
	}

	mnt2 := t.TempDir()
	_, errs, code := ferry(t, "mount", vol, mnt2)
	if code != 1 || !strings.HasPrefix(errs, "ferry: mount: volume "+vol+" is in use by another ferry process (pid ") {
		t.Errorf("second mount: exit %d, stderr %q", code, errs)
	}
	pid := volume.LockHolder(vol)
	if st := ferryOK(t, "status", vol); pid == 0 || !strings.Contains(st, "in use by pid "+itoa(pid)) {
		t.Errorf("status of a mounted volume (holder %d):\n%s", pid, st)
	}

	if err := syscall.Unmount(mnt, 0); err != nil {
		t.Fatalf("umount %s: %v", mnt, err)
	}
	waitFor(t, "the background mount to release the volume", func() bool { return volumeFree(vol) })
	st := ferryOK(t, "status", vol)
	for _, want := range []string{"not in use", "inodes      2", "file bytes  1048576 "} {
		if !strings.Contains(st, want) {
			t.Errorf("status after unmount lacks %q:\n%s", want, st)
		}
	}
	if out := ferryOK(t, "fsck", vol); !strings.Contains(out, "volume is clean") {
		t.Errorf("fsck after unmount:\n%s", out)
	}
	logText, err := os.ReadFile(filepath.Join(vol, volume.LogFile))
	if err != nil || !strings.Contains(string(logText), "mounted in the background") ||
		!strings.Contains(string(logText), "unmounted by the user") {
		t.Errorf("background log (%v):\n%s", err, logText)
	}

	// The data survived: mount again and read it back.
	ferryOK(t, "mount", "-d", vol, mnt)
	got, err := os.ReadFile(filepath.Join(mnt, "f"))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("after remount: read %d bytes, %v; want the %d bytes written", len(got), err, len(data))
	}
	if err := syscall.Unmount(mnt, 0); err != nil {
		t.Fatalf("umount %s: %v", mnt, err)
	}
	waitFor(t, "the second background mount to release the volume", func() bool { return volumeFree(vol) })
}

// TestForegroundMountSignal: a foreground mount ends on SIGTERM with exit
// 0, the mount gone and written data kept.
func TestForegroundMountSignal(t *testing.T) {
	testmount.RequireFUSE(t)
	vol, mnt := filepath.Join(t.TempDir(), "vol"), t.TempDir()
	forceUnmount(t, mnt)
	cmd := exec.Command(testbin.Ferry(t), "mount", vol, mnt, "--log-level", "debug")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	waitFor(t, "the foreground mount", func() bool { return mounted(t, mnt) })
	if err := os.WriteFile(filepath.Join(mnt, "kept"), []byte("through SIGTERM"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An open file with unflushed writes: the shutdown must not lose them.
	f, err := os.Create(filepath.Join(mnt, "open"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("still open"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The open file keeps the mount busy: the mount detaches and ends
	// when the file is closed.
	waitFor(t, "the mount point to be detached", func() bool { return !mounted(t, mnt) })
	if err := f.Close(); err != nil {
		t.Errorf("close of a file open across SIGTERM: %v", err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("ferry mount after SIGTERM: %v\n%s", waitErr, stderr.String())
		}
	case <-time.After(waitTimeout):
		t.Fatalf("ferry mount did not exit within %v of SIGTERM\n%s", waitTimeout, stderr.String())
	}
	if !strings.Contains(stderr.String(), "signal received: unmounting") {
		t.Errorf("stderr lacks the shutdown log:\n%s", stderr.String())
	}
	st := ferryOK(t, "status", vol)
	if want := "file bytes  " + itoa(len("through SIGTERM")+len("still open")) + " "; !strings.Contains(st, want) {
		t.Errorf("status after SIGTERM lacks %q:\n%s", want, st)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestMountOnBusyMountPoint: a mount point already in use is refused before
// the volume is touched, so a typo cannot format a directory.
func TestMountOnBusyMountPoint(t *testing.T) {
	testmount.RequireFUSE(t)
	t.Parallel()
	m := testmount.New(t, testmount.Options{})
	fresh := filepath.Join(t.TempDir(), "vol")
	_, stderr, code := ferry(t, "mount", fresh, m.Dir)
	if code != 1 || !strings.Contains(stderr, "is already mounted") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatalf("refused mount created the volume directory: %v", err)
	}
}
