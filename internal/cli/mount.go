package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferryfs/ferry/internal/client"
	"github.com/ferryfs/ferry/internal/rpc"

	"github.com/ferryfs/ferry/internal/volume"
	"github.com/ferryfs/ferry/internal/volume/mount"
)

type mountOptions struct {
	args       []string // as given, for a background child to run again
	vol, mnt   string
	meta       bool // vol is the URL of a metadata engine (--meta)
	background bool // -d: run in the background once mounted
	debug      bool // log every FUSE request
	cacheMB    int
	patience   time.Duration // how long calls wait for an unreachable service
	level      slog.Level
	sec        *mountSecurity // TLS and token flags, for a service
	metrics    string         // --metrics address
}

const mountSynopsis = "VOL|ferry://HOST:PORT[,HOST:PORT] MOUNTPOINT [-d] [--debug] [--cache-mb N] [--patience D] [--tls-ca F [--tls-cert F --tls-key F]] [--token-file F] [--metrics HOST:PORT] [-v] [--log-level L] | --meta URL MOUNTPOINT [...]"

func cmdMount(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "mount", mountSynopsis)
	o := mountOptions{args: args}
	fl.BoolVar(&o.background, "d", false, "run in the background once the mount is ready (log in VOL/"+volume.LogFile+")")
	fl.BoolVar(&o.debug, "debug", false, "log every FUSE request (implies --log-level debug)")
	fl.IntVar(&o.cacheMB, "cache-mb", mount.DefaultCacheBytes>>20, "MiB of memory for cached file data")
	fl.DurationVar(&o.patience, "patience", time.Minute, "with a service: how long calls wait for it while it is unreachable, then fail with EIO")
	level := logLevelFlag(fl, slog.LevelInfo)
	o.sec = mountSecurityFlags(fl)
	verbose := verboseFlag(fl, level)
	metricsFlag(fl, &o.metrics)
	var src volSource
	metaFlag(fl, &src)
	pos, err := parseVol(fl, args, &src, 1)
	if err != nil {
		return err
	}
	verbose()
	if o.cacheMB < 0 {
		fmt.Fprintf(e.stderr, "ferry mount: --cache-mb must not be negative\n")
		fl.Usage()
		return errUsage
	}
	o.vol, o.mnt, o.level = src.dir, pos[0], *level
	if src.meta != "" {
		o.vol, o.meta = src.meta, true
	}
	if o.debug {
		o.level = slog.LevelDebug
	}
	reexecForMalloc()
	if ready := childReady(); ready != nil {
		return runMountChild(ctx, e, o, ready)
	}
	if o.background {
		return runMountBackground(ctx, e, o)
	}
	return runMount(ctx, e, o, nil)
}

// runMount serves the volume in the foreground until the mount ends: by
// SIGINT or SIGTERM (ctx), or by the user unmounting it. ready, if set, is
// told once the mount is live; every error before that is returned.
func runMount(ctx context.Context, e *env, o mountOptions, ready func(*slog.Logger)) error {
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: o.level}))
	if isRemote(o.vol) && !o.meta {
		return runMountRemote(ctx, log, o, ready)
	}
	if o.sec.set() {
		return errors.New("--tls-* and --token-file are for a service's volume (ferry://...), not a local one")
	}
	src := volSource{meta: o.vol}
	if !o.meta {
		vol, err := filepath.Abs(o.vol)
		if err != nil {
			return err
		}
		src = volSource{dir: vol}
	}
	// Check the mount point first: a typo there must not format a volume.
	mnt, err := mount.CheckMountPoint(o.mnt)
	if err != nil {
		return err
	}
	pm, err := listenMetrics(o.metrics, log)
	if err != nil {
		return err
	}
	defer pm.close()
	limitGoMemory(int64(o.cacheMB)<<20 + mount.DefaultDirtyBytes)
	v, err := openVolume(ctx, src, volume.Options{Create: true, Logger: log})
	if err != nil {
		return err
	}
	m, err := mount.Start(v, mnt, pm.mountOptions(mount.Options{
		CacheBytes: int64(o.cacheMB) << 20,
		Debug:      o.debug,
		Logger:     log,
		// This process exists to serve the mount, unless GOMAXPROCS
		// says how many processors it should use.
		AdaptiveProcs: os.Getenv("GOMAXPROCS") == "",
	}))
	if err != nil {
		return errors.Join(err, v.Close())
	}
	pm.live(m, nil, ready)
	if err := serveMount(ctx, log, m, v.Close); err != nil {
		return err
	}
	log.Info("volume closed", "volume", src)
	return nil
}

// serveMount waits for the mount to end (a signal, or the user unmounting
// it), then unmounts, flushes and closes what lies beneath (closeBelow).
func serveMount(ctx context.Context, log *slog.Logger, m *mount.Mount, closeBelow func() error) error {
	if path := os.Getenv("FERRY_CPUPROFILE"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			log.Warn("cpu profile not started", "err", err)
		} else {
			defer stop()
		}
	}
	select {
	case <-ctx.Done():
		log.Info("signal received: unmounting", "mountpoint", m.Dir)
	case <-m.Done():
		log.Info("unmounted by the user", "mountpoint", m.Dir)
	}
	// Shutdown must run to the end whatever the signals say.
	err := m.Close(context.Background())
	if cerr := closeBelow(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		log.Error("unclean shutdown", "err", err)
	}
	return err
}

// isRemote reports whether a mount's source is a service address rather
// than a volume directory.
func isRemote(src string) bool { return strings.Contains(src, "://") }

// logPath is where a background mount logs.
func (o mountOptions) logPath(pid int) string {
	if isRemote(o.vol) {
		return filepath.Join(os.TempDir(), fmt.Sprintf("ferry-mount-%d.log", pid))
	}
	return filepath.Join(o.vol, volume.LogFile)
}

// runMountRemote mounts the volume of a service.
func runMountRemote(ctx context.Context, log *slog.Logger, o mountOptions, ready func(*slog.Logger)) error {
	addrs, err := rpc.ParseAddrs(o.vol)
	if err != nil {
		return err
	}
	mnt, err := mount.CheckMountPoint(o.mnt)
	if err != nil {
		return err
	}
	pm, err := listenMetrics(o.metrics, log)
	if err != nil {
		return err
	}
	defer pm.close()
	limitGoMemory(int64(o.cacheMB)<<20 + mount.DefaultDirtyBytes)
	cr, err := o.sec.credentials()
	if err != nil {
		return err
	}
	c, err := client.Connect(ctx, client.Options{Addrs: addrs, Patience: o.patience, Credentials: cr, Logger: log})
	if err != nil {
		return err
	}
	log.Info("session connected", "session", c.Hello().Session, "service", o.vol, "auth", o.sec.describe(cr))
	m, err := mount.StartRemote(ctx, c, o.vol, mnt, pm.mountOptions(mount.Options{
		OpenStore:     openStore,
		CacheBytes:    int64(o.cacheMB) << 20,
		Debug:         o.debug,
		Logger:        log,
		AdaptiveProcs: os.Getenv("GOMAXPROCS") == "",
	}))
	if err != nil {
		return errors.Join(err, c.Close())
	}
	pm.live(m, c, ready)
	if err := serveMount(ctx, log, m, c.Close); err != nil {
		return err
	}
	log.Info("session closed", "service", o.vol)
	return nil
}

// openLog appends the process's stdout and stderr to the volume's log
// file; a background mount calls it once the volume is known good.
func openLog(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	return redirectStdio(int(f.Fd()))
}
