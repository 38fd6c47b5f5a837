package etcdkv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/ferryfs/ferry/internal/kv/etcdkv/etcdtest"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/blob/localblob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/fusefs"
	"github.com/ferryfs/ferry/internal/kv/etcdkv"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/testmount"
)

// etcdMount is a file system whose metadata lives in etcd, served over
// FUSE by the test process: the pieces `ferry mount` puts together, with
// an etcdkv store in place of the volume's Pebble directory.
type etcdMount struct {
	dir     string
	fs      *meta.FS
	data    *chunk.Store
	srv     *fusefs.Server
	retries retryCounter // transactions the store ran again
}

const mountBlockSize = 1 << 20

// mountEtcd serves the metadata under url (formatting it first if format)
// with file contents in objDir, on a temporary mount point.
func mountEtcd(t *testing.T, url, objDir string, format bool) *etcdMount {
	t.Helper()
	ctx := t.Context()
	m := &etcdMount{dir: t.TempDir()}
	store := openWith(t, url, etcdkv.Options{Logger: slog.New(&m.retries)})
	if format {
		if err := meta.Format(ctx, store, meta.FormatOptions{
			BlockSize: mountBlockSize, UUID: "etcd-mount-test", RootMode: 0o755,
			RootUID: uint32(os.Getuid()), RootGID: uint32(os.Getgid()),
		}); err != nil {
			t.Fatalf("format metadata in etcd: %v", err)
		}
	}
	objs, err := localblob.Open(objDir, localblob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fs, err := meta.New(ctx, store, meta.Options{
		Logger: log,
		DeleteObjects: func(ctx context.Context, ids []uint64) error {
			var errs []error
			for _, id := range ids {
				errs = append(errs, objs.Delete(ctx, chunk.ObjectKey(id)))
			}
			return errors.Join(errs...)
		},
	})
	if err != nil {
		t.Fatalf("metadata service on etcd: %v", err)
	}
	data := chunk.New(objs, fs, chunk.Options{BlockSize: mountBlockSize, CacheBytes: 8 << 20, DirtyBytes: 8 << 20, Logger: log})
	m.fs, m.data = fs, data
	m.srv, err = fusefs.Mount(m.dir, fs, data, fusefs.Options{FsName: "ferry:etcd-test", Logger: log})
	if err != nil {
		data.Close()
		fs.Close()
		t.Fatalf("mount: %v", err)
	}
	t.Cleanup(func() { m.close(t) })
	return m
}

func (m *etcdMount) close(t *testing.T) {
	if m.srv == nil {
		return
	}
	if err := m.srv.Unmount(); err != nil {
		t.Errorf("unmount: %v", err)
		if err := syscall.Unmount(m.dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("detach %s: %v", m.dir, err)
			return
		}
	}
	m.srv.Wait()
	m.srv = nil
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.data.FlushAll(ctx); err != nil {
		t.Errorf("flush: %v", err)
	}
	if err := m.data.Close(); err != nil {
		t.Errorf("close data path: %v", err)
	}
	m.fs.Close()
}

// TestMountMemberKilled mounts a file system whose metadata is in a
// three-member etcd cluster, runs rounds of POSIX operations, kills the
// leader with SIGKILL during one of them, and checks that every operation
// of every round succeeds. A second mount, through the survivors only, then finds
// everything the first one made.
func TestMountMemberKilled(t *testing.T) {
	testmount.RequireFUSE(t)
	c := etcdtest.Start(t, 3)
	t.Cleanup(c.Stop)
	prefix, objDir := newPrefix("mount"), t.TempDir()
	m := mountEtcd(t, c.URL(prefix), objDir, true)
	const rounds, killAt = 8, 3
	leader := c.Leader(t)
	killed := make(chan struct{})
	for k := range rounds {
		if k == killAt {
			// Kill it while the round runs.
			go func() {
				defer close(killed)
				time.Sleep(5 * time.Millisecond)
				t.Logf("killing the leader, member %d", leader)
				c.Kill(leader)
			}()
		}
		if err := posixRound(m.dir, k); err != nil {
			t.Fatalf("round %d (leader killed during round %d): %v", k, killAt, err)
		}
	}
	<-killed
	m.close(t)

	var survivors []int
	for i := range c.Members {
		if i != leader {
			survivors = append(survivors, i)
		}
	}
	again := mountEtcd(t, c.URL(prefix, survivors...), objDir, false)
	for k := range rounds {
		if err := checkRound(again.dir, k); err != nil {
			t.Fatalf("remounted on the survivors: round %d: %v", k, err)
		}
	}
}

func roundContent(k int) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "round %d;", k), 1000+k)
}

// posixRound makes a directory, writes and fsyncs a file, renames it,
// links it, makes a symlink to it, chmods it, removes a link and lists the
// directory, checking each result.
func posixRound(root string, k int) error {
	d := filepath.Join(root, fmt.Sprintf("d%d", k))
	if err := os.Mkdir(d, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(d, "f"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(roundContent(k)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(d, "f"), filepath.Join(d, "g")); err != nil {
		return err
	}
	if err := os.Link(filepath.Join(d, "g"), filepath.Join(d, "h")); err != nil {
		return err
	}
	if err := os.Symlink("g", filepath.Join(d, "l")); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(d, "g"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d, "tmp"), []byte("x"), 0o644); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(d, "tmp")); err != nil {
		return err
	}
	return checkRound(root, k)
}

// checkRound checks what posixRound made.
func checkRound(root string, k int) error {
	d := filepath.Join(root, fmt.Sprintf("d%d", k))
	ents, err := os.ReadDir(d)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"g", "h", "l"}; !slices.Equal(names, want) {
		return fmt.Errorf("%s holds %q, want %q", d, names, want)
	}
	got, err := os.ReadFile(filepath.Join(d, "l"))
	if err != nil {
		return err
	}
	if !bytes.Equal(got, roundContent(k)) {
		return fmt.Errorf("%s/g: read %d bytes that differ from the %d written", d, len(got), len(roundContent(k)))
	}
	st, err := os.Stat(filepath.Join(d, "h"))
	if err != nil {
		return err
	}
	if st.Mode().Perm() != 0o600 {
		return fmt.Errorf("%s/h: mode %v, want 0600", d, st.Mode())
	}
	if target, err := os.Readlink(filepath.Join(d, "l")); err != nil || target != "g" {
		return fmt.Errorf("%s/l: readlink %q, %v", d, target, err)
	}
	return nil
}

// TestMountConcurrent has several goroutines create, rename and remove
// files at once, in directories of their own and in a shared one, on a
// mount whose metadata is in etcd: their transactions conflict (on the
// shared directory, on the volume's counters) and run again, and the
// result must be what each goroutine did.
func TestMountConcurrent(t *testing.T) {
	testmount.RequireFUSE(t)
	m := mountEtcd(t, sharedCluster(t).URL(newPrefix("mountconc")), t.TempDir(), true)
	const workers, files = 4, 20
	shared := filepath.Join(m.dir, "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			errs <- func() error {
				own := filepath.Join(m.dir, fmt.Sprintf("w%d", w))
				if err := os.Mkdir(own, 0o755); err != nil {
					return err
				}
				for i := range files {
					for _, d := range []string{own, shared} {
						p := filepath.Join(d, fmt.Sprintf("f%d-%02d", w, i))
						if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
							return err
						}
						if i%2 == 1 {
							if err := os.Rename(p, p+"r"); err != nil {
								return err
							}
						}
						if i%10 == 9 {
							if err := os.Remove(p + "r"); err != nil {
								return err
							}
						}
					}
				}
				return nil
			}()
		}()
	}
	var failed error
	for range workers {
		if err := <-errs; err != nil && failed == nil {
			failed = err
		}
	}
	if failed != nil {
		t.Fatal(failed)
	}
	// Per worker and directory: 20 files, of which the 2 with i%10 == 9
	// were renamed and removed.
	want := files - files/10
	ents, err := os.ReadDir(shared)
	if err != nil || len(ents) != workers*want {
		t.Fatalf("shared directory: %d entries, %v; want %d", len(ents), err, workers*want)
	}
	for w := range workers {
		ents, err := os.ReadDir(filepath.Join(m.dir, fmt.Sprintf("w%d", w)))
		if err != nil || len(ents) != want {
			t.Fatalf("w%d: %d entries, %v; want %d", w, len(ents), err, want)
		}
	}
	t.Logf("%d transactions ran again after a conflict", m.retries.n.Load())
}
