package mount_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/testmount"
	"github.com/ferryfs/ferry/internal/volume"
	"github.com/ferryfs/ferry/internal/volume/mount"
)

func TestCheckMountPoint(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := mount.CheckMountPoint(dir); err != nil || got != dir {
		t.Errorf("CheckMountPoint(%s) = %q, %v", dir, got, err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "missing"): "mount point " + filepath.Join(dir, "missing") + " does not exist",
		file:                          "mount point " + file + " is not a directory",
	} {
		_, err := mount.CheckMountPoint(path)
		var mpe *mount.MountPointError
		if err == nil || err.Error() != want || !errors.As(err, &mpe) {
			t.Errorf("CheckMountPoint(%s) = %v; want %q", path, err, want)
		}
	}
}

// TestCloseBusyMount: Close with a file still open detaches the mount,
// waits for the file to be closed, and keeps what was written to it.
func TestCloseBusyMount(t *testing.T) {
	testmount.RequireFUSE(t)
	ctx := context.Background()
	volDir, mnt := t.TempDir(), t.TempDir()
	v, err := volume.Open(ctx, volDir, volume.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	m, err := mount.Start(v, mnt, mount.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(mnt, "held"))
	if err != nil {
		m.Close(ctx)
		t.Fatal(err)
	}
	if _, err := f.WriteString("written while held"); err != nil {
		t.Fatal(err)
	}

	closed := make(chan error, 1)
	go func() { closed <- m.Close(ctx) }()
	// Close cannot finish while the file is open.
	deadline := time.Now().Add(30 * time.Second)
	for isMounted(t, mnt) {
		if time.Now().After(deadline) {
			t.Fatal("Close did not detach a busy mount within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a file on the mount was open", err)
	default:
	}
	if err := f.Close(); err != nil {
		t.Errorf("closing the held file: %v", err)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return within 30s of the last file closing")
	}
	select {
	case <-m.Done():
	default:
		t.Error("Done is not closed after Close")
	}
	a, err := v.Meta.Lookup(ctx, meta.Root, meta.RootIno, "held")
	if err != nil || a.Size != uint64(len("written while held")) {
		t.Errorf("after Close the held file is %+v, %v", a, err)
	}
}

func isMounted(t *testing.T, dir string) bool {
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(info), " "+dir+" ")
}
