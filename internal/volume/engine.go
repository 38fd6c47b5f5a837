package volume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/pgkv"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/standby"
)

// A volume may also live in a metadata engine named by a URL (OpenKV):
// its identity (name, uuid, block size, and the URL of its object store)
// is the volume record of its metadata, so the engine's URL alone opens
// it. Credentials are never part of it: the engine's own come with its
// URL at every start, an object store's from the environment.
//
// One process at a time may have such a volume open where the engine can
// say so (locker: PostgreSQL's advisory locks); on other engines nothing
// keeps a second process off, and running two is the operator's mistake.

// FormatOptions configure FormatEngine.
type FormatOptions struct {
	Name      string // the volume's name, for people
	Data      string // the object store: a URL or a local path
	BlockSize int    // 0 means DefaultBlockSize
	Logger    *slog.Logger
}

// locker is a metadata store that can hold a volume for one process.
type locker interface {
	Lock(ctx context.Context) (release func() error, err error)
}

// FormatEngine makes a new, empty volume in the metadata engine metaURL,
// with its objects in opts.Data. It refuses an engine that holds anything
// already, and an object store that holds objects.
func FormatEngine(ctx context.Context, metaURL string, opts FormatOptions) (meta.Super, error) {
	src := Redact(metaURL)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BlockSize == 0 {
		opts.BlockSize = DefaultBlockSize
	}
	if opts.Name == "" || len(opts.Name) > 255 || strings.ContainsFunc(opts.Name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return meta.Super{}, fmt.Errorf("volume name %q: give 1 to 255 printable characters", opts.Name)
	}
	if err := checkBlockSize(src, opts.BlockSize); err != nil {
		return meta.Super{}, err
	}
	if opts.Data == "" {
		return meta.Super{}, fmt.Errorf("volume %s: a volume in an engine needs --data, the URL of its object store", src)
	}
	if err := checkNoCredentials(opts.Data); err != nil {
		return meta.Super{}, err
	}
	data := opts.Data
	if !IsURL(data) || scheme(data) == "file" {
		p, err := localPath(data)
		if err != nil {
			return meta.Super{}, err
		}
		data = p
	}
	v, err := openEngineStores(ctx, metaURL, opts.Logger)
	if err != nil {
		return meta.Super{}, err
	}
	defer v.closeAll()
	switch sb, err := meta.ReadSuper(ctx, v.KV); {
	case err == nil:
		return meta.Super{}, kindErrorf(ErrExist, nil, "%s already holds Ferry volume %q (uuid %s)", src, sb.Name, sb.UUID)
	case !errors.Is(err, syscall.ENOENT):
		return meta.Super{}, fmt.Errorf("volume %s: read metadata: %w", src, err)
	}
	if empty, err := kvEmpty(ctx, v.KV); err != nil {
		return meta.Super{}, fmt.Errorf("volume %s: %w", src, err)
	} else if !empty {
		return meta.Super{}, kindErrorf(ErrNotVolume, nil, "%s holds data that is not a Ferry volume; refusing to format it", src)
	}
	if v.Objects, err = OpenBlob(ctx, data, opts.Logger); err != nil {
		return meta.Super{}, fmt.Errorf("volume %s: open object store %s: %w", src, Redact(data), err)
	}
	if n, err := countObjects(ctx, v.Objects, 1); err != nil {
		return meta.Super{}, fmt.Errorf("volume %s: list object store %s: %w", src, Redact(data), err)
	} else if n > 0 {
		return meta.Super{}, fmt.Errorf("object store %s already holds objects; give each volume an empty one", Redact(data))
	}
	id, err := newUUID()
	if err != nil {
		return meta.Super{}, fmt.Errorf("volume %s: make uuid: %w", src, err)
	}
	err = meta.Format(ctx, v.KV, meta.FormatOptions{
		BlockSize: opts.BlockSize, UUID: id, Name: opts.Name, Data: data,
		RootUID: uint32(os.Getuid()), RootGID: uint32(os.Getgid()), RootMode: 0o755,
	})
	if err == nil {
		err = v.KV.Sync(ctx)
	}
	if err != nil {
		return meta.Super{}, fmt.Errorf("volume %s: format metadata: %w", src, err)
	}
	sb, err := meta.ReadSuper(ctx, v.KV)
	if err != nil {
		return meta.Super{}, fmt.Errorf("volume %s: read metadata: %w", src, err)
	}
	opts.Logger.Info("formatted volume", "meta", src, "name", sb.Name, "uuid", sb.UUID, "data", Redact(data))
	return sb, nil
}

// OpenEngine opens the volume that lives in the metadata engine metaURL
// and the object store its record names. opts.Create and opts.BlockSize
// do not apply: FormatEngine makes such a volume.
func OpenEngine(ctx context.Context, metaURL string, opts Options) (_ *Volume, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	v, err := openEngineKV(ctx, metaURL, opts.Logger)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			v.closeAll()
		}
	}()
	sb, err := meta.ReadSuper(ctx, v.KV)
	if errors.Is(err, syscall.ENOENT) {
		if empty, eerr := kvEmpty(ctx, v.KV); eerr == nil && !empty {
			return nil, kindErrorf(ErrNotVolume, nil, "%s holds data that is not a Ferry volume", v.Source)
		}
		return nil, kindErrorf(ErrNotExist, nil, "%s holds no Ferry volume (ferry format --meta URL --data URL NAME makes one)", v.Source)
	}
	if err != nil {
		return nil, fmt.Errorf("volume %s: read metadata: %w", v.Source, err)
	}
	if sb.Data == "" {
		return nil, kindErrorf(ErrNotVolume, nil, "%s is the metadata of a volume directory, not of a volume in an engine; open the directory", v.Source)
	}
	if err := v.activate(ctx, opts); err != nil {
		return nil, err
	}
	v.Super = sb
	v.Marker = Marker{Magic: Magic, Version: FormatVersion, UUID: sb.UUID, BlockSize: sb.BlockSize, Created: time.Unix(0, sb.Created).UTC()}
	if v.Objects, err = OpenBlob(ctx, sb.Data, opts.Logger); err != nil {
		return nil, fmt.Errorf("volume %s: open object store %s: %w", v.Source, Redact(sb.Data), err)
	}
	if !IsURL(sb.Data) {
		v.diskDir = sb.Data
	}
	if err := v.startMeta(ctx, opts); err != nil {
		return nil, err
	}
	return v, nil
}

// openEngineStores opens the metadata store and takes its lock.
func openEngineStores(ctx context.Context, metaURL string, log *slog.Logger) (*Volume, error) {
	v, err := openEngineKV(ctx, metaURL, log)
	if err != nil {
		return nil, err
	}
	if err := v.lock(ctx, v.KV); err != nil {
		v.KV.Close()
		return nil, err
	}
	return v, nil
}

// openEngineKV opens the metadata store.
func openEngineKV(ctx context.Context, metaURL string, log *slog.Logger) (*Volume, error) {
	v := &Volume{Source: Redact(metaURL), unlock: func() error { return nil }, log: log}
	st, err := OpenKV(ctx, metaURL, log)
	if err != nil {
		if strings.HasPrefix(err.Error(), v.Source) {
			return nil, err
		}
		return nil, fmt.Errorf("volume %s: %w", v.Source, err)
	}
	v.KV = st
	return v, nil
}

// lock takes the lock of st, the volume's engine, where it has one.
func (v *Volume) lock(ctx context.Context, st kv.Store) error {
	l, ok := st.(locker)
	if !ok {
		return nil
	}
	release, err := l.Lock(ctx)
	var held *pgkv.HeldError
	if errors.As(err, &held) {
		return &InUseError{Dir: v.Source, Holder: held.Holder}
	}
	if err != nil {
		return fmt.Errorf("volume %s: %w", v.Source, err)
	}
	v.unlock = release
	return nil
}

// activate makes this process the volume's active holder (package
// standby): with opts.Standby it waits for a live holder to go, else it
// refuses a volume a live process holds. Every update of the metadata is
// then fenced by the lease. The engine's own lock (PostgreSQL's advisory
// lock, which also lets its store answer reads from memory) is taken
// after: a holder that was killed dropped it with its connection; one
// that is frozen may keep it a while, and the new holder goes on without.
func (v *Volume) activate(ctx context.Context, opts Options) error {
	sopts := standby.Options{Period: opts.ActivePeriod, Addrs: opts.Addrs, Logger: opts.Logger.With("component", "standby")}
	var l *standby.Lease
	var err error
	if opts.Standby {
		l, err = standby.Acquire(ctx, v.KV, sopts)
	} else {
		l, err = standby.TryAcquire(ctx, v.KV, sopts)
	}
	var held *standby.HeldError
	if errors.As(err, &held) {
		return &InUseError{Dir: v.Source, Holder: held.Who()}
	}
	if err != nil {
		return fmt.Errorf("volume %s: become its active holder: %w", v.Source, err)
	}
	raw := v.KV
	v.Lease = l
	v.KV = standby.Fence(raw, l)
	period := opts.ActivePeriod
	if period <= 0 {
		period = standby.DefaultPeriod
	}
	deadline := time.Now().Add(period)
	for {
		err = v.lock(ctx, raw)
		var inUse *InUseError
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &inUse):
			return err
		case !opts.Standby:
			return err
		case time.Now().After(deadline):
			opts.Logger.Warn("the engine's lock is still held by the previous holder; going on without it (reads are not answered from memory)", "volume", v.Source, "holder", inUse.Holder)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(period / 20):
		}
	}
}

// closeAll closes what a failed open or a format opened.
func (v *Volume) closeAll() {
	v.closeStores()
	v.unlock()
}

// kvEmpty reports whether st holds no key at all.
func kvEmpty(ctx context.Context, st kv.Store) (bool, error) {
	empty := true
	err := st.View(ctx, func(r kv.Reader) error {
		return r.Scan(nil, nil, func(_, _ []byte) bool { empty = false; return false })
	})
	return empty, err
}

// countObjects counts the objects of st, stopping at max.
func countObjects(ctx context.Context, st blob.Store, max int) (int, error) {
	n := 0
	err := st.List(ctx, "", func(blob.Object) error {
		n++
		if n >= max {
			return io.EOF
		}
		return nil
	})
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}
