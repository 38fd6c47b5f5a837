package testmount

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/volume"
	"github.com/ferryfs/ferry/internal/volume/mount"
)

// Options configure New. Zero values take the defaults of a real mount.
type Options struct {
	BlockSize  int   // of the new volume
	CacheBytes int64 // read cache
	DirtyBytes int64 // write-back buffer
	Debug      bool  // log every FUSE request
	// Logger receives the volume's and the mount's logs; nil logs
	// warnings and errors to stderr.
	Logger *slog.Logger
	// Meta, if set, is the URL of an empty metadata engine: the volume is
	// made there, with its objects in VolDir, instead of in VolDir.
	Meta string
}

// Mount is a live mount of a fresh volume.
type Mount struct {
	Dir    string // the mount point
	VolDir string // the volume directory (with Options.Meta: its objects)
	Vol    *volume.Volume
	M      *mount.Mount // the data path is M.Data

	opts Options
}

// closeTimeout bounds how long cleanup waits for a busy mount point.
const closeTimeout = 30 * time.Second

// New formats a volume in a temporary directory, mounts it on another and
// unmounts and closes it when the test ends.
func New(t testing.TB, opts Options) *Mount {
	t.Helper()
	RequireFUSE(t)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	m := &Mount{Dir: t.TempDir(), VolDir: t.TempDir(), opts: opts}
	m.open(t, true)
	t.Cleanup(func() { m.close(t) })
	return m
}

// Remount unmounts and closes the volume, then opens and mounts it again,
// as a restart of "ferry mount" would.
func (m *Mount) Remount(t testing.TB) {
	t.Helper()
	m.close(t)
	if t.Failed() {
		t.FailNow()
	}
	m.open(t, false)
}

func (m *Mount) open(t testing.TB, create bool) {
	t.Helper()
	v, err := m.openVolume(create)
	if err != nil {
		t.Fatalf("open volume: %v", err)
	}
	mt, err := mount.Start(v, m.Dir, mount.Options{
		CacheBytes: m.opts.CacheBytes,
		DirtyBytes: m.opts.DirtyBytes,
		Debug:      m.opts.Debug,
		Logger:     m.opts.Logger,
	})
	if err != nil {
		v.Close()
		t.Fatalf("mount: %v", err)
	}
	m.Vol, m.M = v, mt
}

func (m *Mount) openVolume(create bool) (*volume.Volume, error) {
	ctx := context.Background()
	if m.opts.Meta == "" {
		return volume.Open(ctx, m.VolDir, volume.Options{Create: create, BlockSize: m.opts.BlockSize, Logger: m.opts.Logger})
	}
	if create {
		_, err := volume.FormatEngine(ctx, m.opts.Meta, volume.FormatOptions{
			Name: "test", Data: m.VolDir, BlockSize: m.opts.BlockSize, Logger: m.opts.Logger,
		})
		if err != nil {
			return nil, err
		}
	}
	return volume.OpenEngine(ctx, m.opts.Meta, volume.Options{Logger: m.opts.Logger})
}

// close unmounts and closes the volume; it reports failures with t.Error.
func (m *Mount) close(t testing.TB) {
	t.Helper()
	if m.M != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if err := m.M.Close(ctx); err != nil {
			t.Errorf("unmount %s: %v", m.Dir, err)
		}
		m.M = nil
	}
	if m.Vol != nil {
		if err := m.Vol.Close(); err != nil {
			t.Errorf("close volume: %v", err)
		}
		m.Vol = nil
	}
}

// RequireFUSE stops the test unless this process can mount FUSE file
// systems: skipped normally, failed under CI=true.
func RequireFUSE(t testing.TB) {
	t.Helper()
	reason := fuseMissing()
	if reason == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("this test needs FUSE, and CI=true requires every test to run: %s", reason)
		return
	}
	t.Skipf("FUSE not available: %s", reason)
}

// fuseDevice is the kernel's FUSE device; tests point it elsewhere.
var fuseDevice = "/dev/fuse"

// fuseMissing says why FUSE cannot be used, or "" if it can.
func fuseMissing() string {
	f, err := os.OpenFile(fuseDevice, os.O_RDWR, 0)
	if err != nil {
		return err.Error() // "open /dev/fuse: no such file or directory"
	}
	f.Close()
	if os.Geteuid() == 0 {
		return ""
	}
	for _, bin := range []string{"fusermount3", "fusermount"} {
		if _, err := exec.LookPath(bin); err == nil {
			return ""
		}
	}
	return "not root and no fusermount3 in PATH (apt-get install fuse3)"
}
