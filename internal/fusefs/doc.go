// Package fusefs serves a Ferry volume to the Linux kernel over FUSE. It
// is the only package that speaks FUSE and errno: it implements go-fuse's
// RawFileSystem over two dependencies, the metadata service (Meta) and
// the data path (*chunk.Store), and turns their errors into errnos
// (errors.As on syscall.Errno; anything else is EIO and a log line).
//
// # Identity
//
// A node id is an inode number; the root is inode 1. There is no node
// table: FORGET is a no-op and every request names its inode. The caller
// of a request is the uid, gid and thread id of its header plus the
// supplementary groups read from /proc/<tid>/status (cached for a second).
// Requests are never canceled by the kernel's INTERRUPT (fs.go says why):
// an interrupted request completes.
//
// Opens of files and directories are counted by meta (Open, OpenDir and
// their releases), so that a removed file or directory lives on while it
// is open. The kernel sends no OPEN for fifos, sockets and devices, nor
// for O_PATH descriptors: those are not counted.
//
// # Kernel caches
//
// The design goal is zero requests when nothing changed. This mount is the
// volume's only client, and the kernel's own changes keep its caches
// right, so it is told to keep them long (an hour by default): entries,
// attributes and negative entries (a missing name is answered with node id
// 0 and a timeout). File opens reply FOPEN_KEEP_CACHE and directory opens
// FOPEN_CACHE_DIR|FOPEN_KEEP_CACHE. When several clients share a volume,
// leases will bound these caches and recalls will invalidate them through
// Server.InvalidateInode, InvalidateEntry and NotifyDelete, delivered by a
// worker goroutine (notify.go says why never from a request handler).
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
//   - EXPLICIT_INVAL_DATA (instead of AUTO_INVAL_DATA): the page cache is
//     not dropped because an mtime moved; it is dropped on notification.
//   - max_write 1 MiB (max_pages 256) and 1 MiB readahead, which the
//     kernel only lets root raise, through the mount's bdi in sysfs.
//   - ASYNC_READ, PARALLEL_DIROPS and the splice flags, as go-fuse sets.
//
// Not negotiated: the writeback cache (it breaks coherence between
// clients and disables passthrough), POSIX ACLs, and FLOCK/POSIX locks
// (the kernel's local locks are right for a single mount; several clients
// need locks held by the server). LSEEK (SEEK_DATA/SEEK_HOLE) and
// COPY_FILE_RANGE answer ENOSYS once, and the kernel stops asking.
//
// # Data
//
// WRITE buffers in the data path; FLUSH (each close of a writable handle)
// and RELEASE commit; FSYNC commits, makes objects durable and syncs the
// metadata. GETATTR and READ lay the size and mtime of buffered writes
// over the committed attributes. Unmount commits everything first.
//
// # Locks
//
// Each lock here guards one small structure and is never held across a
// call out of the package: handleTable.mu, groupCache.mu, notifyQueue.mu,
// and Server.unmountMu (held across an unmount; it takes none of the
// others).
package fusefs
