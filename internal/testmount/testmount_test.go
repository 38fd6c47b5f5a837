package testmount

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMountWriteRemountRead(t *testing.T) {
	m := New(t, Options{BlockSize: 64 << 10})
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mounts), " "+m.Dir+" ") || !strings.Contains(string(mounts), "ferry:"+m.VolDir) {
		t.Fatalf("%s is not listed as a ferry mount of %s", m.Dir, m.VolDir)
	}
	want := bytes.Repeat([]byte("ferry"), 50000) // several blocks
	path := filepath.Join(m.Dir, "d", "f")
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}

	vol := m.Vol
	m.Remount(t)
	if m.Vol == vol {
		t.Fatal("Remount kept the same volume")
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("after remount: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("after remount read %d bytes, want %d equal to what was written", len(got), len(want))
	}
}

// stopRecorder is a testing.TB whose Fatalf and Skipf record instead of
// stopping the test.
type stopRecorder struct {
	testing.TB
	fatal, skip string
}

func (r *stopRecorder) Helper()                           {}
func (r *stopRecorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }
func (r *stopRecorder) Skipf(format string, args ...any)  { r.skip = fmt.Sprintf(format, args...) }

func TestRequireFUSEWithoutFUSE(t *testing.T) {
	fuseDevice = filepath.Join(t.TempDir(), "no-fuse")
	t.Cleanup(func() { fuseDevice = "/dev/fuse" })

	t.Setenv("CI", "true")
	r := &stopRecorder{TB: t}
	RequireFUSE(r)
	if r.skip != "" || !strings.Contains(r.fatal, "CI=true") || !strings.Contains(r.fatal, "no-fuse") {
		t.Errorf("under CI=true: fatal %q, skip %q; want a failure naming the device", r.fatal, r.skip)
	}

	t.Setenv("CI", "")
	r = &stopRecorder{TB: t}
	RequireFUSE(r)
	if r.fatal != "" || !strings.Contains(r.skip, "no-fuse") {
		t.Errorf("outside CI: fatal %q, skip %q; want a skip naming the device", r.fatal, r.skip)
	}
}
