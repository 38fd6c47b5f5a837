package fusefs

import (
	"context"
	"errors"
	"fmt"
	"github.com/ferryfs/ferry/internal/procs"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Options configure a mount.
type Options struct {
	// FsName is the source shown in /proc/mounts, e.g. "ferry:/path/vol".
	FsName string
	// Kernel cache lifetimes of names, attributes and missing names. Zero
	// means one hour: this mount is the volume's only client and the
	// kernel's own changes keep its caches right. Negative means none.
	EntryTimeout    time.Duration
	AttrTimeout     time.Duration
	NegativeTimeout time.Duration
	// SyncInterval is how often buffered writes are committed and all
	// of it made durable in the background: the bound on what syncfs(2)
	// and sync(2) leave undurable, since Linux does not send them to
	// FUSE servers. Zero means five seconds; negative means never.
	SyncInterval time.Duration
	// CommitOnClose commits a writable handle's buffered writes at each
	// close (FLUSH), for mounts other clients share.
	CommitOnClose bool
	// Disk reports capacity for statfs(2); nil reports 1 PiB.
	Disk func() (total, free uint64, err error)
	// Logger receives errors the kernel cannot be told about; nil discards.
	Logger *slog.Logger
	// Debug logs every FUSE request and reply.
	Debug bool
	// AdaptiveProcs lets the mount set the Go runtime's GOMAXPROCS: one
	// while only metadata requests arrive, all CPUs while file data moves
	// (package procs says why). It changes the whole process, so only a process
	// that exists to serve the mount should set it.
	AdaptiveProcs bool
	// Wrap, if set, decorates the file system go-fuse serves (metrics).
	Wrap func(fuse.RawFileSystem) fuse.RawFileSystem
}

const defaultTimeout = time.Hour

func (o Options) withDefaults() Options {
	for _, d := range []*time.Duration{&o.EntryTimeout, &o.AttrTimeout, &o.NegativeTimeout} {
		if *d == 0 {
			*d = defaultTimeout
		}
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = defaultSyncInterval
	}
	if o.FsName == "" {
		o.FsName = "ferry"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Kernel request sizes: 1 MiB writes and reads. The INIT reply caps the
// readahead at one request; the mount's readahead window is then raised to
// 8 MiB through sysfs, so that sequential reads keep several 1 MiB READs
// in flight (measured on a 1 GiB cold read: 564 MB/s at 1 MiB, 645 MB/s at
// 16 MiB).
const (
	maxWrite      = 1 << 20
	initReadAhead = maxWrite
	readAheadKiB  = 8 << 10
	maxBackground = 32 // concurrent background requests (readahead, release)
)

// Server is a mounted file system.
type Server struct {
	srv    *fuse.Server
	fs     *fileSystem
	notify *notifyQueue
	sync   *syncer
	log    *slog.Logger
	mnt    string
	done   chan struct{} // closed when the serve loop has ended

	unmountMu sync.Mutex
}

// Mount mounts the file system served by m and data at mountpoint and
// starts serving it. As root it mounts with mount(2) itself, otherwise
// through fusermount3.
func Mount(mountpoint string, m Meta, data *chunk.Store, opts Options) (*Server, error) {
	return mount(mountpoint, m, data, opts)
}

func mount(mountpoint string, m Meta, data dataPath, opts Options) (*Server, error) {
	mnt, err := filepath.Abs(mountpoint)
	if err != nil {
		return nil, fmt.Errorf("mount point %s: %w", mountpoint, err)
	}
	if err := CheckMountPoint(mnt); err != nil {
		return nil, err
	}
	f := newFileSystem(m, data, opts)
	f.locker, _ = m.(Locker)
	s := &Server{fs: f, notify: newNotifyQueue(f.log), log: f.log, mnt: mnt, done: make(chan struct{})}
	f.onInit = func(fs *fuse.Server) { s.notify.start(fs) }
	if l, ok := m.(Lessee); ok {
		s.notify.handing = l.Referenced
	}
	f.invalidate = func(ino uint64) { s.notify.push(notice{kind: noticeInode, ino: ino, off: -1}) }

	srv, err := fuse.NewServer(f.wrapped(), mnt, f.withLocks(mountOptions(f.opts, os.Geteuid() == 0)))
	if err != nil {
		s.notify.stop()
		return nil, fmt.Errorf("mount %s: %w", mnt, err)
	}
	s.srv = srv
	s.sync = startSyncer(f, f.opts.SyncInterval)
	if f.opts.AdaptiveProcs {
		f.procs = procs.Start()
	}
	go func() {
		srv.Serve()
		f.procs.Stop()
		s.sync.stop()
		s.notify.stop()
		close(s.done)
	}()
	if err := srv.WaitMount(); err != nil {
		_ = srv.Unmount()
		return nil, fmt.Errorf("mount %s: %w", mnt, err)
	}
	if err := raiseReadAhead(mnt, readAheadKiB); err != nil {
		f.log.Debug("fuse: readahead left at the kernel default", "err", err)
	}
	f.log.Info("fuse: mounted", "mountpoint", mnt, "fsname", f.opts.FsName)
	return s, nil
}

// mountOptions are the go-fuse options; doc.go says why each is chosen.
func mountOptions(o Options, root bool) *fuse.MountOptions {
	log := o.Logger
	return &fuse.MountOptions{
		FsName:      o.FsName,
		Name:        "ferry",
		Options:     []string{"default_permissions"},
		AllowOther:  root,
		DirectMount: root,
		// As root, mount(2) or nothing: a failure then says why, instead
		// of that a fusermount3 binary is missing.
		DirectMountStrict: root,
		MaxWrite:          maxWrite,
		MaxReadAhead:      initReadAhead,
		MaxBackground:     maxBackground,
		// The kernel's local flock/fcntl locks are right for a single
		// mount. A Meta that is a Locker gets them (withLocks).
		EnableLocks:          false,
		EnableSymlinkCaching: true,
		// POSIX ACLs: the kernel checks them (with default_permissions)
		// and caches them; creates come with the umask not applied
		// (DONT_MASK), since a default ACL overrides it.
		EnableAcl:                true,
		ExplicitDataCacheControl: true,
		ExtraCapabilities:        fuse.CAP_HANDLE_KILLPRIV_V2 | fuse.CAP_ATOMIC_O_TRUNC | fuse.CAP_DONT_MASK,
		// Never negotiated: it breaks coherence between clients and
		// rules out passthrough.
		DisabledCapabilities: fuse.CAP_WRITEBACK_CACHE,
		Debug:                o.Debug,
		Logger:               slog.NewLogLogger(log.Handler(), slog.LevelDebug), // go-fuse says little worth a line by default
		PanicHandler: func(v any) fuse.Status {
			log.Error("fuse: panic in request handler", "panic", v, "stack", string(debug.Stack()))
			return fuse.EIO
		},
	}
}

// MountPointError says why a directory cannot be mounted on.
type MountPointError struct {
	Dir     string
	Problem string // "does not exist", "is not a directory", ...
}

func (e *MountPointError) Error() string { return "mount point " + e.Dir + " " + e.Problem }

// CheckMountPoint fails with a one-line error unless mnt is an existing
// directory that nothing is mounted on.
func CheckMountPoint(mnt string) error {
	st, err := os.Stat(mnt)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &MountPointError{mnt, "does not exist"}
	case errors.Is(err, syscall.ENOTCONN):
		return &MountPointError{mnt, "is a dead FUSE mount; unmount it first (umount -l " + mnt + ")"}
	case err != nil:
		return fmt.Errorf("mount point %s: %w", mnt, err)
	case !st.IsDir():
		return &MountPointError{mnt, "is not a directory"}
	}
	real, err := filepath.EvalSymlinks(mnt)
	if err != nil {
		return fmt.Errorf("mount point %s: %w", mnt, err)
	}
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("mount point %s: %w", mnt, err)
	}
	if isMountPoint(info, real) {
		return &MountPointError{mnt, "is already mounted"}
	}
	return nil
}

// raiseReadAhead sets the readahead of the mount's backing device. The
// kernel's INIT offers its default (128 KiB) as the largest readahead
// the server may choose; the device's sysfs knob (root only) can raise it.
func raiseReadAhead(mnt string, kib int) error {
	var st syscall.Stat_t
	if err := syscall.Stat(mnt, &st); err != nil {
		return err
	}
	major, minor := devNumbers(st.Dev)
	p := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", major, minor)
	return os.WriteFile(p, []byte(strconv.Itoa(kib)), 0)
}

// Mountpoint returns the absolute mount point.
func (s *Server) Mountpoint() string { return s.mnt }

// Wait blocks until the file system is unmounted (by Unmount or by
// umount(8)).
func (s *Server) Wait() { <-s.done }

// Unmount commits every buffered write, then unmounts and waits for the
// serve loop to end. It fails (and the mount stays) while files are open
// or the mount point is some process's working directory.
func (s *Server) Unmount() error {
	s.unmountMu.Lock()
	defer s.unmountMu.Unlock()
	select {
	case <-s.done:
		return nil
	default:
	}
	ctx := context.Background()
	s.fs.procs.Begin()
	defer s.fs.procs.End()
	flushErr := s.fs.data.FlushAll(ctx)
	if flushErr != nil {
		s.log.Error("fuse: flush before unmount failed", "err", flushErr)
		flushErr = fmt.Errorf("unmount %s: flush: %w", s.mnt, flushErr)
	}
	if err := s.srv.Unmount(); err != nil {
		return errors.Join(flushErr, fmt.Errorf("unmount %s: %w", s.mnt, err))
	}
	<-s.done
	// Writes that raced with the first flush were flushed by their
	// releases; what a failed release left behind is tried once more.
	if err := s.fs.data.FlushAll(ctx); err != nil {
		return errors.Join(flushErr, fmt.Errorf("unmount %s: flush: %w", s.mnt, err))
	}
	return nil
}

// InvalidateInode has the kernel drop the cached attributes of ino and
// its cached data in [off, off+length); length 0 means to the end of the
// file and a negative off means the attributes only. It is queued and
// delivered by the notification worker; the returned channel is closed
// once the kernel took it.
func (s *Server) InvalidateInode(ino uint64, off, length int64) <-chan struct{} {
	done := make(chan struct{})
	s.notify.push(notice{kind: noticeInode, ino: ino, off: off, length: length, done: done})
	return done
}

// InvalidateEntry has the kernel drop its cached lookup of name in
// parent (present or absent). It waits for the parent's lock in the
// kernel, on a lane of its own per parent (notify_lanes.go); the
// returned channel is closed once the kernel took it.
func (s *Server) InvalidateEntry(parent uint64, name string) <-chan struct{} {
	done := make(chan struct{})
	s.notify.push(notice{kind: noticeEntry, parent: parent, name: name, done: done})
	return done
}

// NotifyDelete tells the kernel that name in parent, inode child, is
// gone, even if it is some process's working directory.
func (s *Server) NotifyDelete(parent, child uint64, name string) {
	s.notify.push(notice{kind: noticeDelete, parent: parent, ino: child, name: name})
}

// DrainNotify waits until the notifications queued so far have reached
// the kernel.
func (s *Server) DrainNotify(ctx context.Context) error { return s.notify.drain(ctx) }
