package volume

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/meta"
)

func openT(t *testing.T, dir string, opts Options) *Volume {
	t.Helper()
	v, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return v
}

func closeT(t *testing.T, v *Volume) {
	t.Helper()
	if err := v.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestCreateAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "vol") // missing: Create makes it
	v := openT(t, dir, Options{Create: true, BlockSize: 1 << 20})
	if v.Super.BlockSize != 1<<20 || v.Marker.BlockSize != 1<<20 {
		t.Errorf("block size: super %d, marker %d; want %d", v.Super.BlockSize, v.Marker.BlockSize, 1<<20)
	}
	if v.Super.UUID == "" || v.Super.UUID != v.Marker.UUID {
		t.Errorf("uuid: super %q, marker %q", v.Super.UUID, v.Marker.UUID)
	}
	if _, err := v.Meta.Mkdir(ctx, meta.Root, meta.RootIno, "kept", 0o755); err != nil {
		t.Fatalf("Mkdir: %v", err)
	}
	closeT(t, v)

	var m Marker
	data, err := os.ReadFile(filepath.Join(dir, MarkerFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("FERRY is not JSON: %v\n%s", err, data)
	}
	if m.Magic != Magic || m.Version != FormatVersion || m.UUID != v.Super.UUID || m.BlockSize != 1<<20 || m.Created.IsZero() {
		t.Errorf("FERRY = %+v", m)
	}
	for _, name := range []string{LockFile, MetaDir, ObjectsDir} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("volume lacks %s: %v", name, err)
		}
	}

	// Reopen without Create; the block size asked for now is ignored.
	v2 := openT(t, dir, Options{BlockSize: 8 << 20})
	defer closeT(t, v2)
	if v2.Super != v.Super {
		t.Errorf("reopened super %+v, want %+v", v2.Super, v.Super)
	}
	if _, err := v2.Meta.Lookup(ctx, meta.Root, meta.RootIno, "kept"); err != nil {
		t.Errorf("directory made before Close is gone: %v", err)
	}
}

func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	v := openT(t, dir, Options{Create: true})
	_, err := Open(context.Background(), dir, Options{Create: true})
	want := fmt.Sprintf("volume %s is in use by another ferry process (pid %d)", dir, os.Getpid())
	if err == nil || err.Error() != want {
		t.Fatalf("second Open: %v; want %q", err, want)
	}
	var iu *InUseError
	if !errors.Is(err, ErrInUse) || !errors.As(err, &iu) || iu.PID != os.Getpid() {
		t.Errorf("second Open error %#v is not an InUseError for our pid", err)
	}
	if LockHolder(dir) != os.Getpid() {
		t.Errorf("LockHolder = %d, want %d", LockHolder(dir), os.Getpid())
	}
	closeT(t, v)
	// Released: it opens again.
	closeT(t, openT(t, dir, Options{}))
}

func TestRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, create := range []bool{false, true} {
		_, err := Open(context.Background(), dir, Options{Create: create})
		if !errors.Is(err, ErrNotVolume) || !strings.HasPrefix(err.Error(), dir+" is not a Ferry volume (no FERRY file)") {
			t.Errorf("Open(create=%v) of a foreign directory: %v", create, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("refusing to open wrote into the directory: %v", entries)
	}
	// A meta/ that is not ours (no LOCK next to it) is foreign too.
	dir2 := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir2, MetaDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir2, Options{Create: true}); !errors.Is(err, ErrNotVolume) {
		t.Errorf("Open of a directory holding a stray meta/: %v", err)
	}
}

func TestEmptyDirectoryNeedsCreate(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(context.Background(), dir, Options{})
	if want := dir + " is not a Ferry volume (no FERRY file)"; err == nil || err.Error() != want {
		t.Errorf("Open without Create: %v; want %q", err, want)
	}
	missing := filepath.Join(dir, "nope")
	_, err = Open(context.Background(), missing, Options{})
	if !errors.Is(err, ErrNotExist) || err.Error() != "volume "+missing+" does not exist" {
		t.Errorf("Open of a missing directory: %v", err)
	}
	// lost+found, as on a freshly made file system, does not count.
	if err := os.Mkdir(filepath.Join(dir, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	closeT(t, openT(t, dir, Options{Create: true}))
}

func TestNewerFormatRefused(t *testing.T) {
	dir := t.TempDir()
	closeT(t, openT(t, dir, Options{Create: true}))
	editMarker(t, dir, func(m *Marker) { m.Version = FormatVersion + 1 })
	_, err := Open(context.Background(), dir, Options{Create: true})
	if !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("Open: %v; want ErrNewerFormat", err)
	}
	for _, v := range []int{FormatVersion + 1, FormatVersion} {
		if !strings.Contains(err.Error(), fmt.Sprint(v)) {
			t.Errorf("error %q does not name version %d", err, v)
		}
	}
}

func TestUUIDMismatchRefused(t *testing.T) {
	dir := t.TempDir()
	v := openT(t, dir, Options{Create: true})
	real := v.Super.UUID
	closeT(t, v)
	const other = "00000000-0000-4000-8000-000000000000"
	editMarker(t, dir, func(m *Marker) { m.UUID = other })
	_, err := Open(context.Background(), dir, Options{})
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), real) || !strings.Contains(err.Error(), other) {
		t.Errorf("Open: %v; want ErrMismatch naming %s and %s", err, other, real)
	}
}

func TestInterruptedFormatResumes(t *testing.T) {
	dir := t.TempDir()
	v := openT(t, dir, Options{Create: true})
	id := v.Super.UUID
	closeT(t, v)
	// A crash between formatting the metadata and writing FERRY.
	if err := os.Remove(filepath.Join(dir, MarkerFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, Options{}); !errors.Is(err, ErrNotVolume) {
		t.Errorf("Open without Create of a half-formatted volume: %v", err)
	}
	v = openT(t, dir, Options{Create: true})
	defer closeT(t, v)
	if v.Super.UUID != id || v.Marker.UUID != id {
		t.Errorf("resumed format has uuid %s/%s, want %s", v.Super.UUID, v.Marker.UUID, id)
	}
}

func TestBadBlockSize(t *testing.T) {
	for _, bs := range []int{1000, 2048, 3 << 20, 128 << 20} {
		dir := t.TempDir()
		if _, err := Open(context.Background(), dir, Options{Create: true, BlockSize: bs}); err == nil ||
			!strings.Contains(err.Error(), "block size") {
			t.Errorf("BlockSize %d: %v", bs, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("BlockSize %d: refusing wrote %v", bs, entries)
		}
		missing := filepath.Join(dir, "new")
		if _, err := Open(context.Background(), missing, Options{Create: true, BlockSize: bs}); err == nil {
			t.Errorf("BlockSize %d accepted for a new directory", bs)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Errorf("BlockSize %d: refusing created %s", bs, missing)
		}
	}
}

func TestDeleteObjectsWired(t *testing.T) {
	ctx := context.Background()
	v := openT(t, t.TempDir(), Options{Create: true})
	defer closeT(t, v)
	for _, id := range []uint64{7, 8} {
		if err := v.Objects.Put(ctx, chunk.ObjectKey(id), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.deleteObjects(ctx, []uint64{7, 9}); err != nil {
		t.Fatalf("deleteObjects: %v", err)
	}
	var keys []string
	v.Objects.List(ctx, "", func(o blob.Object) error { keys = append(keys, o.Key); return nil })
	if len(keys) != 1 || keys[0] != chunk.ObjectKey(8) {
		t.Errorf("objects left: %v, want only %s", keys, chunk.ObjectKey(8))
	}
}

func TestDisk(t *testing.T) {
	v := openT(t, t.TempDir(), Options{Create: true})
	defer closeT(t, v)
	total, free, err := v.Disk()
	if err != nil || total == 0 || free > total {
		t.Errorf("Disk() = %d, %d, %v", total, free, err)
	}
}

// TestUnwritableDirectory: a volume on a read-only file system (as root)
// or in a directory we may not write (otherwise) fails with one line that
// names the volume and the reason.
func TestUnwritableDirectory(t *testing.T) {
	dir := t.TempDir()
	want := "permission denied"
	if os.Geteuid() == 0 {
		if err := syscall.Mount("ferry-test", dir, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("mount a read-only tmpfs: %v", err)
			}
			t.Skipf("root without mount(2): %v", err)
		}
		t.Cleanup(func() { syscall.Unmount(dir, 0) })
		want = "read-only file system"
	} else {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Open(context.Background(), dir, Options{Create: true})
	if err == nil || strings.Contains(err.Error(), "\n") ||
		!strings.HasPrefix(err.Error(), "volume "+dir+": ") || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("Open on an unwritable directory: %v; want one line ending in %q", err, want)
	}
}

func editMarker(t *testing.T, dir string, edit func(*Marker)) {
	t.Helper()
	path := filepath.Join(dir, MarkerFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m Marker
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
