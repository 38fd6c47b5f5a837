package volume

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/standby"
)

// DefaultBlockSize is the block size of a volume formatted without one.
const DefaultBlockSize = 4 << 20

// Block sizes a volume may be formatted with: powers of two in this range.
const (
	MinBlockSize = 4 << 10
	MaxBlockSize = 64 << 20
)

// Options configure Open.
type Options struct {
	Logger *slog.Logger
	// Create formats a missing or empty directory as a new volume.
	Create bool
	// BlockSize is the block size of a volume Open formats; 0 means
	// DefaultBlockSize. It is ignored for an existing volume.
	BlockSize int
	// OnCommit is the metadata service's meta.Options.OnCommit.
	OnCommit func(ctx context.Context, changes []meta.Change)
	// KeepOrphans is meta.Options.KeepOrphans.
	KeepOrphans bool

	// For a volume in an engine, which several processes may reach: the
	// process that opens it becomes its active holder (package standby).
	// Standby waits while another live process holds it, and takes over
	// when that one is gone; without it a volume held by a live process
	// is refused with an *InUseError.
	Standby bool
	// Addrs are this process's listeners, recorded for status.
	Addrs []string
	// ActivePeriod is the holder's lease period; standby.DefaultPeriod
	// if 0.
	ActivePeriod time.Duration
}

// Volume is an open volume: a volume directory, or a volume that lives in
// a metadata engine (engine.go).
type Volume struct {
	Dir string // absolute path; "" for a volume in an engine
	// Source names the volume for people: Dir, or the engine's URL
	// without its password.
	Source  string
	Marker  Marker
	Super   meta.Super
	KV      kv.Store
	Objects blob.Store
	Meta    *meta.FS

	// Lease holds a volume in an engine for this process: lost, it
	// means another process took the volume over, and every update of
	// this one is refused from then on (standby.ErrFenced).
	Lease *standby.Lease

	unlock  func() error // drops the LOCK, or the engine's lock
	diskDir string       // where Disk looks; "" if the objects are not local
	log     *slog.Logger
}

// Open opens the volume in dir, formatting it first if opts.Create is set
// and dir is missing or empty. Only one process may have a volume open; a
// second Open fails at once with an *InUseError.
func Open(ctx context.Context, dir string, opts Options) (_ *Volume, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BlockSize == 0 {
		opts.BlockSize = DefaultBlockSize
	}
	if abs, aerr := filepath.Abs(dir); aerr == nil {
		dir = abs
	}
	if err := prepareDir(dir, opts); err != nil {
		return nil, err
	}
	lock, err := acquireLock(dir)
	if err != nil {
		return nil, err
	}
	v := &Volume{Dir: dir, Source: dir, unlock: lock.release, diskDir: dir, log: opts.Logger}
	defer func() {
		if err != nil {
			v.closeStores()
			v.unlock()
		}
	}()

	// Under the lock: formatting a volume and opening it are one step
	// nobody else can interleave with.
	if _, serr := os.Lstat(filepath.Join(dir, MarkerFile)); errors.Is(serr, fs.ErrNotExist) && opts.Create {
		err = v.format(ctx, opts)
	} else if v.Marker, err = ReadMarker(dir); err == nil {
		err = v.openStores(ctx)
	}
	if err != nil {
		return nil, err
	}
	return v, v.startMeta(ctx, opts)
}

// startMeta starts the metadata service over the open stores.
func (v *Volume) startMeta(ctx context.Context, opts Options) error {
	var err error
	v.Meta, err = meta.New(ctx, v.KV, meta.Options{
		OnCommit:      opts.OnCommit,
		KeepOrphans:   opts.KeepOrphans,
		Logger:        opts.Logger.With("component", "meta"),
		DeleteObjects: v.deleteObjects,
	})
	if err != nil {
		return fmt.Errorf("volume %s: start metadata service: %w", v.Source, err)
	}
	return nil
}

// prepareDir checks dir before anything is written to it: it must be a
// volume, or with Create a missing or empty directory (which it creates).
func prepareDir(dir string, opts Options) error {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if !opts.Create {
			return kindErrorf(ErrNotExist, err, "volume %s does not exist", dir)
		}
		if err := checkBlockSize(dir, opts.BlockSize); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return ioError(dir, "create directory", err)
		}
		return nil
	}
	if err != nil {
		return ioError(dir, "stat", err)
	}
	if !st.IsDir() {
		return kindErrorf(ErrNotVolume, nil, "%s is not a Ferry volume (not a directory)", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, MarkerFile)); err == nil {
		return nil
	}
	if !opts.Create {
		return kindErrorf(ErrNotVolume, nil, "%s is not a Ferry volume (no %s file)", dir, MarkerFile)
	}
	ok, err := formattable(dir)
	if err != nil {
		return ioError(dir, "read directory", err)
	}
	if !ok {
		return kindErrorf(ErrNotVolume, nil,
			"%s is not a Ferry volume (no %s file) and is not empty; refusing to format it", dir, MarkerFile)
	}
	return checkBlockSize(dir, opts.BlockSize)
}

func checkBlockSize(dir string, bs int) error {
	if bs < MinBlockSize || bs > MaxBlockSize || bs&(bs-1) != 0 {
		return fmt.Errorf("volume %s: block size %d is not a power of two from 4 KiB to 64 MiB", dir, bs)
	}
	return nil
}

// format makes dir a new volume: metadata first, FERRY last. If an earlier
// format was interrupted after the metadata was written, it keeps that
// volume's identity instead of formatting again.
func (v *Volume) format(ctx context.Context, opts Options) error {
	if err := v.openKV(); err != nil {
		return err
	}
	super, err := meta.ReadSuper(ctx, v.KV)
	if errors.Is(err, syscall.ENOENT) {
		id, uerr := newUUID()
		if uerr != nil {
			return fmt.Errorf("volume %s: make uuid: %w", v.Dir, uerr)
		}
		err = meta.Format(ctx, v.KV, meta.FormatOptions{
			BlockSize: opts.BlockSize,
			UUID:      id,
			RootUID:   uint32(os.Getuid()),
			RootGID:   uint32(os.Getgid()),
			RootMode:  0o755,
		})
		if err != nil {
			return fmt.Errorf("volume %s: format metadata: %w", v.Dir, err)
		}
		if err := v.KV.Sync(ctx); err != nil {
			return fmt.Errorf("volume %s: sync metadata: %w", v.Dir, err)
		}
		super, err = meta.ReadSuper(ctx, v.KV)
	} else if err == nil {
		v.log.Info("resuming an interrupted format", "dir", v.Dir, "uuid", super.UUID)
	}
	if err != nil {
		return fmt.Errorf("volume %s: read metadata: %w", v.Dir, err)
	}
	v.Super = super
	if err := v.openObjects(); err != nil {
		return err
	}
	v.Marker = Marker{
		Magic:     Magic,
		Version:   FormatVersion,
		UUID:      super.UUID,
		BlockSize: super.BlockSize,
		Created:   time.Unix(0, super.Created).UTC(),
	}
	if err := writeMarker(v.Dir, v.Marker); err != nil {
		return err
	}
	v.log.Info("formatted volume", "dir", v.Dir, "uuid", super.UUID, "block_size", super.BlockSize)
	return nil
}

// openStores opens the stores of an existing volume and checks that the
// metadata belongs to the volume FERRY names.
func (v *Volume) openStores(ctx context.Context) error {
	if err := v.openKV(); err != nil {
		return err
	}
	super, err := meta.ReadSuper(ctx, v.KV)
	if errors.Is(err, syscall.ENOENT) {
		return kindErrorf(ErrMismatch, err, "volume %s: %s names volume %s but %s/ holds no volume",
			v.Dir, MarkerFile, v.Marker.UUID, MetaDir)
	}
	if err != nil {
		return fmt.Errorf("volume %s: read metadata: %w", v.Dir, err)
	}
	if super.UUID != v.Marker.UUID {
		return kindErrorf(ErrMismatch, nil, "volume %s: %s names volume %s but %s/ holds volume %s",
			v.Dir, MarkerFile, v.Marker.UUID, MetaDir, super.UUID)
	}
	if super.BlockSize != v.Marker.BlockSize {
		return kindErrorf(ErrMismatch, nil, "volume %s: %s says block size %d but %s/ says %d",
			v.Dir, MarkerFile, v.Marker.BlockSize, MetaDir, super.BlockSize)
	}
	v.Super = super
	return v.openObjects()
}

func (v *Volume) openKV() error {
	st, err := OpenKV(context.Background(), filepath.Join(v.Dir, MetaDir), v.log)
	if err != nil {
		return ioError(v.Dir, "open metadata store", err)
	}
	v.KV = st
	return nil
}

func (v *Volume) openObjects() error {
	st, err := OpenBlob(context.Background(), filepath.Join(v.Dir, ObjectsDir), v.log)
	if err != nil {
		return ioError(v.Dir, "open object store", err)
	}
	v.Objects = st
	return nil
}

// deleteObjects is the metadata service's way to drop objects nobody
// references any more.
func (v *Volume) deleteObjects(ctx context.Context, ids []uint64) error {
	var errs []error
	for _, id := range ids {
		if err := v.Objects.Delete(ctx, chunk.ObjectKey(id)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close makes the volume durable and releases it: it syncs and closes the
// metadata service and both stores, then drops the LOCK.
func (v *Volume) Close() error {
	ctx := context.Background()
	var errs []error
	if v.Meta != nil {
		errs = append(errs, v.Meta.Close())
		v.Meta = nil
	}
	if v.Objects != nil {
		errs = append(errs, blob.Sync(ctx, v.Objects))
	}
	if v.KV != nil {
		errs = append(errs, v.KV.Sync(ctx))
	}
	if v.Lease != nil {
		errs = append(errs, v.Lease.Release(ctx))
	}
	errs = append(errs, v.closeStores(), v.unlock())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("volume %s: close: %w", v.Source, err)
	}
	return nil
}

func (v *Volume) closeStores() error {
	var errs []error
	if c, ok := v.Objects.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	v.Objects = nil
	if v.KV != nil {
		errs = append(errs, v.KV.Close())
		v.KV = nil
	}
	return errors.Join(errs...)
}

// Disk returns the size and free space of the file system that holds the
// volume (for a volume in an engine, its objects).
func (v *Volume) Disk() (total, free uint64, err error) {
	if v.diskDir == "" {
		return 0, 0, fmt.Errorf("volume %s: its objects are not on a local disk", v.Source)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(v.diskDir, &st); err != nil {
		return 0, 0, ioError(v.diskDir, "statfs", err)
	}
	bs := uint64(st.Bsize)
	return st.Blocks * bs, st.Bavail * bs, nil
}

// DiskFunc returns Disk, or nil for a volume whose objects are not on a
// local disk (a mount then reports a nominal capacity).
func (v *Volume) DiskFunc() func() (total, free uint64, err error) {
	if v.diskDir == "" {
		return nil
	}
	return v.Disk
}

// newUUID returns a random (version 4) UUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
