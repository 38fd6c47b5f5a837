package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A control socket is found again by its device number, serves the
// registry, and is gone once closed.
func TestControlSocket(t *testing.T) {
	device := fmt.Sprintf("4095:%d", os.Getpid()) // no real mount's
	r := New()
	r.Counter("ferry_test_total", "a test counter", func() uint64 { return 42 })
	ln, err := ListenControl(device, r, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	path, err := findControl(device)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("control socket %s: %v, mode %v", path, err, st.Mode())
	}
	src := unixSource(path, "test")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := src.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Value("ferry_test_total"); got != 42 {
		t.Errorf("ferry_test_total = %v over the control socket", got)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := findControl(device); err == nil || !strings.Contains(err.Error(), "no control socket") {
		t.Errorf("after Close: %v", err)
	}
	if _, err := ListenControl("../x", r, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("a device with a slash was accepted")
	}
}

func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "is not a mount point") {
		t.Errorf("Open(a plain directory) = %v", err)
	}
	if _, err := Open(ctx, "/proc"); err == nil || !strings.Contains(err.Error(), "not a Ferry mount") {
		t.Errorf("Open(/proc) = %v", err)
	}
	if _, err := Open(ctx, dir+"/missing"); err == nil {
		t.Error("Open of a missing path succeeded")
	}
}

// A mount point named through a symbolic link is found by its real path.
func TestFindMountThroughSymlink(t *testing.T) {
	link := filepath.Join(t.TempDir(), "proc")
	if err := os.Symlink("/proc", link); err != nil {
		t.Fatal(err)
	}
	e, err := findMount(link)
	if err != nil || e.FsType != "proc" || e.Dir != "/proc" {
		t.Errorf("findMount(%s) = %+v, %v; want the proc mount", link, e, err)
	}
}
