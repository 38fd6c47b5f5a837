package mount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/client"
	"github.com/ferryfs/ferry/internal/fusefs"
	"github.com/ferryfs/ferry/internal/volume"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Defaults for the data path's memory.
const (
	DefaultCacheBytes = 64 << 20
	DefaultDirtyBytes = 64 << 20
	DefaultUploads    = 4
)

// Options configure Start. Zero values take the defaults.
type Options struct {
	CacheBytes int64 // read cache for object payloads
	DirtyBytes int64 // write-back buffer across all files
	Uploads    int   // concurrent object uploads
	Debug      bool  // log every FUSE request
	// AdaptiveProcs: see fusefs.Options; for a process that only serves
	// the mount.
	AdaptiveProcs bool
	// OpenStore, for a remote mount, opens the object store the service
	// names, so that objects need not go through the service; nil: they
	// always do.
	OpenStore client.OpenStore
	Logger    *slog.Logger
	// WrapFS and WrapObjects, if set, decorate the file system go-fuse
	// serves and the object store of the data path (metrics).
	WrapFS      func(fuse.RawFileSystem) fuse.RawFileSystem
	WrapObjects func(blob.Store) blob.Store
}

// Mount is a volume served on a mount point.
type Mount struct {
	Dir    string         // absolute mount point
	Vol    *volume.Volume // nil for a volume a service serves
	Data   *chunk.Store
	Server *fusefs.Server

	syncMeta func(ctx context.Context) error

	log  *slog.Logger
	done chan struct{} // closed when the kernel has ended the mount

	closeOnce sync.Once
	closeErr  error
}

// Start mounts v on dir and returns once the mount is live.
func Start(v *volume.Volume, dir string, opts Options) (*Mount, error) {
	opts = opts.withDefaults()
	dir, err := CheckMountPoint(dir)
	if err != nil {
		return nil, err
	}
	data := chunk.New(opts.objects(v.Objects), v.Meta, chunk.Options{
		BlockSize:  v.Super.BlockSize,
		CacheBytes: opts.CacheBytes,
		DirtyBytes: opts.DirtyBytes,
		Uploads:    opts.Uploads,
		Logger:     opts.Logger.With("component", "chunk"),
	})
	srv, err := fusefs.Mount(dir, v.Meta, data, fusefs.Options{
		FsName:        "ferry:" + v.Source,
		Disk:          v.DiskFunc(),
		Debug:         opts.Debug,
		AdaptiveProcs: opts.AdaptiveProcs,
		Logger:        opts.Logger.With("component", "fusefs"),
		Wrap:          opts.WrapFS,
	})
	if err != nil {
		data.Close()
		return nil, err // it names the mount point
	}
	m := &Mount{Dir: dir, Vol: v, Data: data, Server: srv, syncMeta: v.Meta.Sync, log: opts.Logger, done: make(chan struct{})}
	go func() {
		srv.Wait()
		close(m.done)
	}()
	return m, nil
}

// objects is the data path's object store: s, decorated by WrapObjects.
func (opts Options) objects(s blob.Store) blob.Store {
	if opts.WrapObjects == nil {
		return s
	}
	return opts.WrapObjects(s)
}

func (opts Options) withDefaults() Options {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	if opts.DirtyBytes <= 0 {
		opts.DirtyBytes = DefaultDirtyBytes
	}
	if opts.Uploads <= 0 {
		opts.Uploads = DefaultUploads
	}
	return opts
}

// MountPointError says why a directory cannot be mounted on.
type MountPointError = fusefs.MountPointError

// CheckMountPoint returns dir as an absolute path if it can be a mount
// point: an existing directory nothing is mounted on. Callers check it
// before they open a volume, so that a mistake there formats nothing.
func CheckMountPoint(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("mount point %s: %w", dir, err)
	}
	if err := fusefs.CheckMountPoint(abs); err != nil {
		return "", err
	}
	return abs, nil
}

// Done is closed when the mount has ended: after Unmount, or when the
// user unmounted it (umount, fusermount3 -u).
func (m *Mount) Done() <-chan struct{} { return m.done }

// Flush writes every buffered change out and makes it durable, without
// unmounting.
func (m *Mount) Flush(ctx context.Context) error {
	var errs []error
	if err := m.Data.FlushAll(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush file data: %w", err))
	}
	if err := m.Data.SyncObjects(ctx); err != nil {
		errs = append(errs, fmt.Errorf("sync objects: %w", err))
	}
	if err := m.syncMeta(ctx); err != nil {
		errs = append(errs, fmt.Errorf("sync metadata: %w", err))
	}
	return errors.Join(errs...)
}

// Unmount asks the kernel to end the mount and waits until it has. It
// fails (EBUSY) while files on the mount are open; see Detach.
func (m *Mount) Unmount() error {
	select {
	case <-m.done:
		return nil
	default:
	}
	if err := m.Server.Unmount(); err != nil {
		return err // it names the mount point
	}
	<-m.done
	return nil
}

// Detach unmounts lazily: the mount point is free at once, and the mount
// ends (Done) when the last file open on it is closed.
func (m *Mount) Detach() error {
	var err error
	if os.Geteuid() == 0 {
		err = syscall.Unmount(m.Dir, syscall.MNT_DETACH)
	} else {
		var bin string
		if bin, err = exec.LookPath("fusermount3"); err == nil {
			var out []byte
			if out, err = exec.Command(bin, "-u", "-z", m.Dir).CombinedOutput(); err != nil {
				err = fmt.Errorf("%w: %s", err, out)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("detach %s: %w", m.Dir, err)
	}
	return nil
}

// Close ends the mount if it is still live, waits for the kernel to let
// go of it, then flushes and stops the data path. It does not close the
// volume. Close is idempotent.
func (m *Mount) Close(ctx context.Context) error {
	m.closeOnce.Do(func() {
		var errs []error
		if err := m.Unmount(); err != nil {
			if derr := m.Detach(); derr != nil {
				errs = append(errs, err, derr)
			} else {
				m.log.Warn("mount point busy: detached it; the mount ends when its last open file is closed",
					"mountpoint", m.Dir, "cause", err)
				select {
				case <-m.done:
				case <-ctx.Done():
					errs = append(errs, fmt.Errorf("wait for %s to be released: %w", m.Dir, ctx.Err()))
				}
			}
		}
		errs = append(errs, m.Flush(ctx))
		if err := m.Data.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop data path: %w", err))
		}
		m.closeErr = errors.Join(errs...)
	})
	return m.closeErr
}
