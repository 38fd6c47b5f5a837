package fusefs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
)

// needFUSE skips a test that needs to mount, or fails it under CI=true,
// where the machine is expected to allow mounting.
func needFUSE(t *testing.T) {
	t.Helper()
	var why string
	if os.Geteuid() != 0 {
		why = "not root"
	} else if _, err := os.Stat("/dev/fuse"); err != nil {
		why = err.Error()
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot mount FUSE: %s", why)
	}
	t.Skipf("cannot mount FUSE: %s", why)
}

func (m *fakeMeta) took() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls
	m.calls = nil
	return c
}

// TestMountSmoke mounts the adapter over the fakes and checks what the
// kernel negotiated and that requests flow: attributes, listings, reads,
// writes, truncating opens, and a clean unmount.
func TestMountSmoke(t *testing.T) {
	needFUSE(t)
	mnt := t.TempDir()
	if err := os.Chmod(filepath.Dir(mnt), 0o755); err != nil { // for the unprivileged writer below
		t.Fatal(err)
	}
	m, d := newFakeMeta(), newFakeData()
	m.add(1, "f", meta.Attr{Ino: 3, Mode: syscall.S_IFREG | 0o666, Size: 10, Nlink: 1}, 3)
	m.add(1, "d", meta.Attr{Ino: 4, Mode: syscall.S_IFDIR | 0o755, Nlink: 2}, 4)
	m.add(1, "s", meta.Attr{Ino: 5, Mode: syscall.S_IFREG | 0o4777, Nlink: 1}, 5)

	var logBuf syncBuf
	s, err := mount(mnt, m, d, Options{FsName: "ferry:test", Logger: testLogger(t, &logBuf), SyncInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	unmounted := false
	defer func() {
		if !unmounted {
			_ = s.Unmount()
		}
	}()

	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for l := range strings.Lines(string(info)) {
		if strings.Contains(l, " "+mnt+" ") {
			line = l
		}
	}
	for _, want := range []string{"fuse.ferry", "ferry:test", "default_permissions", "allow_other"} {
		if !strings.Contains(line, want) {
			t.Errorf("mountinfo line lacks %q: %q", want, line)
		}
	}
	var st syscall.Stat_t
	if err := syscall.Stat(mnt, &st); err != nil {
		t.Fatal(err)
	}
	major, minor := devNumbers(st.Dev)
	ra, err := os.ReadFile(fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", major, minor))
	if err != nil || strings.TrimSpace(string(ra)) != strconv.Itoa(readAheadKiB) {
		t.Errorf("readahead %q, %v; want %d KiB", ra, err, readAheadKiB)
	}

	if _, err := mount(mnt, m, d, Options{}); err == nil || err.Error() != "mount point "+mnt+" is already mounted" {
		t.Errorf("second mount: %v", err)
	}

	ents, err := os.ReadDir(mnt)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if fmt.Sprint(names) != "[d f s]" {
		t.Fatalf("listing %v", names)
	}
	fi, err := os.Stat(filepath.Join(mnt, "f"))
	if err != nil || fi.Size() != 10 || fi.Mode().Perm() != 0o666 {
		t.Fatalf("stat f: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(mnt, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat of a missing name: %v", err)
	}
	m.took()
	// The missing name is cached: no second LOOKUP.
	if _, err := os.Stat(filepath.Join(mnt, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat of a missing name: %v", err)
	}
	if c := m.took(); slices.Contains(c, "lookup") {
		t.Fatalf("negative entry not cached: %v", c)
	}
	// An invalidation from the worker makes the kernel ask again.
	s.InvalidateEntry(1, "missing")
	s.InvalidateInode(3, 0, 0)
	s.NotifyDelete(1, 99, "never-cached")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.DrainNotify(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(mnt, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat of a missing name: %v", err)
	}
	if c := m.took(); !slices.Contains(c, "lookup") {
		t.Fatalf("no lookup after the entry was invalidated: %v", c)
	}

	b, err := os.ReadFile(filepath.Join(mnt, "f"))
	if err != nil || !bytes.Equal(b, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("read f: %v %v", b, err)
	}

	d.took()
	fd, err := os.OpenFile(filepath.Join(mnt, "f"), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.took(); slices.Contains(c, "setattr") || !slices.Contains(c, "open") {
		t.Errorf("O_TRUNC was not part of OPEN (ATOMIC_O_TRUNC): %v", c)
	}
	if _, err := fd.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := fd.Close(); err != nil {
		t.Fatal(err)
	}
	calls := d.took()
	for _, want := range []string{"flush 3", "truncate@0 3", "write 3"} {
		if !strings.Contains(calls, want) {
			t.Errorf("data calls %s lack %q", calls, want)
		}
	}

	// An unprivileged write clears suid, and the writer sees it at once.
	sfile := filepath.Join(mnt, "s")
	if fi, err := os.Stat(sfile); err != nil || fi.Mode()&os.ModeSetuid == 0 {
		t.Fatalf("stat s: %v %v", fi, err)
	}
	cmd := exec.Command("/bin/sh", "-c", "printf x >> "+sfile+" && stat -c %a "+sfile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "777" {
		t.Errorf("unprivileged write to a suid file, then stat: %q, %v; want 777", out, err)
	}

	if err := s.Unmount(); err != nil {
		t.Fatal(err)
	}
	unmounted = true
	s.Wait()
	if n := strings.Count(d.took(), "flushall"); n != 2 {
		t.Errorf("unmount flushed %d times, want 2", n)
	}
	if info, _ := os.ReadFile("/proc/self/mountinfo"); isMountPoint(info, mnt) {
		t.Fatal("still mounted")
	}
	if !strings.Contains(logBuf.String(), "unmounted") {
		t.Errorf("no unmount log line: %q", logBuf.String())
	}
}
