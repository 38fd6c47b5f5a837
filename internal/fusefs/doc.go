// Package fusefs serves a Ferry volume to the Linux kernel over FUSE. It
// is the only package that speaks FUSE and errno: it implements go-fuse's
// RawFileSystem over two dependencies, the metadata service (Meta) and
// the data path (*chunk.Store), and turns their errors into errnos
// (errors.As on syscall.Errno; anything else is EIO and a log line).
//
// # Identity
//
// A node id is an inode number; the root is inode 1. There is no node
// table: every request names its inode, and FORGET matters only for
// special files (below). The caller
// of a request is the uid, gid and thread id of its header plus the
// supplementary groups read from /proc/<tid>/status (cached for a second).
// Requests are never canceled by the kernel's INTERRUPT (fs.go says why):
// an interrupted request completes.
//
// Opens of files and directories are counted by meta (Open, OpenDir and
// their releases), so that a removed file or directory lives on while it
// is open. The kernel sends no OPEN for fifos, sockets and devices, so
// for those the kernel's lookups are counted instead (refs.go): every
// reply that hands out their node id adds one, FORGET subtracts, and meta
// holds the inode (meta.Hold) from the first lookup to the last forget.
// Only special files take memory for this. O_PATH descriptors of regular
// files, directories and symlinks are not counted: fstat on one whose
// file was removed and closed everywhere else fails with ENOENT.
//
// O_TMPFILE is served (TMPFILE): meta makes a nameless, open inode that
// linkat(2) can name and the last release deletes otherwise.
//
// # Kernel caches
//
// The design goal is zero requests when nothing changed. The kernel is
// told to keep entries, attributes and negative entries long (an hour by
// default): a missing name is answered with node id 0 and a timeout. File
// opens reply FOPEN_KEEP_CACHE and directory opens
// FOPEN_CACHE_DIR|FOPEN_KEEP_CACHE. On an embedded mount, the volume's
// only client, the kernel's own changes keep its caches right. On a mount
// of a service (Meta is then a Lessee: it is told of every node id handed
// to the kernel and every FORGET), the service recalls what others
// change, and the client invalidates it through Server.InvalidateInode and
// InvalidateEntry, delivered by a worker goroutine (notify.go says why
// never from a request handler), entry notices on a lane per parent
// directory (notify_lanes.go); negative entries are then kept for the
// lease period only, and close commits buffered writes (CommitOnClose).
//
// # Negotiated features
//
//   - default_permissions: the kernel checks mode bits with the caller's
//     full credentials before sending a request; meta checks again.
//   - READDIRPLUS (always, not "auto"): a listing carries the attributes of
//     its entries, so ls -l costs one request per buffer, not one per file.
//   - HANDLE_KILLPRIV_V2: the kernel does not send GETXATTR
//     security.capability before every write; it flags writes, truncates
//     and truncating opens by unprivileged callers, sends an empty SETATTR
//     for chown and before such a write to a file it sees suid/sgid on,
//     and the server clears the bits.
//   - ATOMIC_O_TRUNC: open(O_TRUNC) is one OPEN, not OPEN plus SETATTR.
//   - CACHE_SYMLINKS: symlink targets never change, the kernel keeps them.
//   - POSIX_ACL (with default_permissions): the kernel checks POSIX ACLs
//     and caches system.posix_acl_access/default per inode, so ls -l and
//     permission checks cost no GETXATTR once an inode's ACL is known.
//     meta validates and stores them and keeps the mode in step (meta's
//     acl.go). The kernel then applies no umask on create, and with
//     DONT_MASK it hands the umask over (MknodIn/MkdirIn/CreateIn.Umask):
//     meta applies it unless the directory has a default ACL.
//   - EXPLICIT_INVAL_DATA (instead of AUTO_INVAL_DATA): the page cache is
//     not dropped because an mtime moved; it is dropped on notification.
//   - max_write 1 MiB (max_pages 256) and 1 MiB readahead, which the
//     kernel only lets root raise, through the mount's bdi in sysfs.
//   - ASYNC_READ, PARALLEL_DIROPS and the splice flags, as go-fuse sets.
//
// Not negotiated: the writeback cache (it breaks coherence between
// clients and disables passthrough), and, on an embedded mount,
// FLOCK/POSIX locks (the kernel's local locks are right for a single
// mount). A mount of a service negotiates both: its locks are the
// service's, and SETLKW is the one request an INTERRUPT ends (EINTR,
// which the kernel restarts for a handler with SA_RESTART); locks.go
// says how locks end at close. LSEEK (SEEK_DATA/SEEK_HOLE) and
// COPY_FILE_RANGE answer ENOSYS once, and the kernel stops asking.
//
// # Data
//
// WRITE buffers in the data path; FLUSH (each close of a writable handle)
// and RELEASE commit; FSYNC commits, makes objects durable and syncs the
// metadata; FSYNCDIR makes objects durable, then syncs the metadata (a
// metadata sync makes every earlier commit durable, so the objects they
// reference must be durable first). GETATTR and READ lay the size and
// mtime of buffered writes over the committed attributes. Unmount commits
// everything first.
//
// Linux does not send syncfs(2) or sync(2) to FUSE servers (only
// virtiofs asks for them), so those calls return at once and make nothing
// of this mount durable. A background sync (sync.go) every
// Options.SyncInterval (5 s by default) commits all buffered writes and
// makes objects and metadata durable: after syncfs or sync, data is as
// durable as the last tick, at most SyncInterval old. fsync(2) and
// fdatasync(2) are exact. The background sync stops when the serve loop
// ends.
//
// # Processors
//
// With Options.AdaptiveProcs (set by ferry mount, whose process exists to
// serve the mount) the Go scheduler runs on one processor while only
// metadata requests arrive and on all of them while file data moves
// (package procs): a second idle processor makes every metadata request wake a
// second thread, which halves the rate of creates and unlinks.
//
// # Locks
//
// Each lock here guards one small structure and is never held across a
// call out of the package: handleTable.mu, lockOwners.mu, groupCache.mu, notifyQueue.mu,
// kernelRefs.mu, procGovernor.mu (held while it sets GOMAXPROCS), and
// Server.unmountMu (held across an unmount; it takes none of the others).
package fusefs
