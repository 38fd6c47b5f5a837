package crashtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/testbin"
	"github.com/ferryfs/ferry/internal/testmount"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mounting a tmpfs: %v", err)
		}
		t.Skipf("mounting a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// TestFullDisk fills the disk under a volume: the application gets
// ENOSPC, data written before stays intact, and the volume is consistent.
func TestFullDisk(t *testing.T) {
	testmount.RequireFUSE(t)
	t.Parallel()
	bin := testbin.Ferry(t)
	disk := mountTmpfs(t, "48m")
	vol := filepath.Join(disk, "vol")
	mnt := t.TempDir()
	cmd := startMount(t, bin, vol, mnt)

	keep := bytes.Repeat([]byte("keep me "), 128<<10) // 1 MiB
	if err := writeSync(filepath.Join(mnt, "keep"), keep); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(mnt, "big"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{0xab}, 1<<20)
	var werr error
	for i := 0; i < 200 && werr == nil; i++ { // at most 200 MiB on a 48 MiB disk
		_, werr = f.Write(chunk)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("filling the disk: got %v, want ENOSPC", werr)
	}
	// The volume still works: remove the big file, the space comes back.
	if err := os.Remove(filepath.Join(mnt, "big")); err != nil {
		t.Fatalf("removing the file that filled the disk: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(mnt, "keep"))
	if err != nil || !bytes.Equal(got, keep) {
		t.Fatalf("file written before the disk filled: %v (%d bytes)", err, len(got))
	}
	if err := syscall.Unmount(mnt, 0); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("ferry mount did not end cleanly after a full disk: %v", err)
	}
	out, err := exec.Command(bin, "fsck", "--repair", vol).CombinedOutput()
	if err != nil || strings.Contains(string(out), "metadata:") || strings.Contains(string(out), "missing") {
		t.Fatalf("fsck after a full disk (%v):\n%s", err, out)
	}
	cmd = startMount(t, bin, vol, mnt)
	got, err = os.ReadFile(filepath.Join(mnt, "keep"))
	if err != nil || !bytes.Equal(got, keep) {
		t.Fatalf("after remount: %v (%d bytes)", err, len(got))
	}
	syscall.Unmount(mnt, 0)
	cmd.Wait()
}

// TestCorruptObject flips a byte of an object on disk: reading the file
// gives EIO, never other bytes, and fsck --verify names the object.
func TestCorruptObject(t *testing.T) {
	testmount.RequireFUSE(t)
	t.Parallel()
	bin := testbin.Ferry(t)
	vol := filepath.Join(t.TempDir(), "vol")
	mnt := t.TempDir()
	cmd := startMount(t, bin, vol, mnt)
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	if err := writeSync(filepath.Join(mnt, "f"), data); err != nil {
		t.Fatal(err)
	}
	syscall.Unmount(mnt, 0)
	cmd.Wait()

	var objects []string
	filepath.WalkDir(filepath.Join(vol, "objects"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "blocks") {
			objects = append(objects, p)
		}
		return nil
	})
	if len(objects) != 1 {
		t.Fatalf("expected one object, found %v", objects)
	}
	raw, err := os.ReadFile(objects[0])
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x40
	if err := os.WriteFile(objects[0], raw, 0o600); err != nil {
		t.Fatal(err)
	}

	cmd = startMount(t, bin, vol, mnt)
	_, err = os.ReadFile(filepath.Join(mnt, "f"))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("reading a corrupt object: got %v, want EIO", err)
	}
	syscall.Unmount(mnt, 0)
	cmd.Wait()
	out, err := exec.Command(bin, "fsck", "--verify", vol).CombinedOutput()
	key := filepath.Base(objects[0])
	if err == nil || !strings.Contains(string(out), key) {
		t.Fatalf("fsck --verify must fail and name object %s (%v):\n%s", key, err, out)
	}
}

func writeSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
