package posixtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// modelOp is one operation of the model test, applied the same way to
// each side. Paths are relative to a side's root.
type modelOp struct {
	kind  string
	p1    string
	p2    string // second path, or symlink target
	flags int
	mode  uint32
	off   int64
	size  int64 // bytes to write, new size
	seed  byte  // of the data written
	name  string
	value string
	slot  int
	uid   int
	gid   int
	times [2]unix.Timespec
}

func (o modelOp) String() string {
	switch o.kind {
	case "create", "mkdir", "mkfifo", "chmod":
		return fmt.Sprintf("%s(%q, flags %#x, mode %#o)", o.kind, o.p1, o.flags, o.mode)
	case "write":
		return fmt.Sprintf("write(%q, flags %#x, %d bytes at %d)", o.p1, o.flags, o.size, o.off)
	case "truncate":
		return fmt.Sprintf("truncate(%q, %d)", o.p1, o.size)
	case "rename", "link":
		return fmt.Sprintf("%s(%q, %q, flags %d)", o.kind, o.p1, o.p2, o.flags)
	case "symlink":
		return fmt.Sprintf("symlink(target %q, %q)", o.p2, o.p1)
	case "chown":
		return fmt.Sprintf("chown(%q, %d, %d, flags %#x)", o.p1, o.uid, o.gid, o.flags)
	case "utimens":
		return fmt.Sprintf("utimens(%q, %v, %v, flags %#x)", o.p1, o.times[0], o.times[1], o.flags)
	case "setxattr":
		return fmt.Sprintf("setxattr(%q, %s=%q, flags %d)", o.p1, o.name, o.value, o.flags)
	case "removexattr", "getxattr":
		return fmt.Sprintf("%s(%q, %s)", o.kind, o.p1, o.name)
	case "open":
		return fmt.Sprintf("open(slot %d, %q, flags %#x)", o.slot, o.p1, o.flags)
	case "fdwrite":
		return fmt.Sprintf("fdwrite(slot %d, %d bytes at %d, append-style %v)", o.slot, o.size, o.off, o.flags != 0)
	case "fdread":
		return fmt.Sprintf("fdread(slot %d, %d bytes at %d)", o.slot, o.size, o.off)
	case "fdtruncate":
		return fmt.Sprintf("fdtruncate(slot %d, %d)", o.slot, o.size)
	case "close", "fsync":
		return fmt.Sprintf("%s(slot %d)", o.kind, o.slot)
	}
	return fmt.Sprintf("%s(%q)", o.kind, o.p1)
}

// touched lists the paths whose state the operation may have changed.
func (o modelOp) touched() []string {
	var out []string
	for _, p := range []string{o.p1, o.p2} {
		if p == "" || o.kind == "symlink" && p == o.p2 {
			continue
		}
		out = append(out, p, parentOf(p))
	}
	return out
}

func parentOf(rel string) string {
	d := filepath.Dir(rel)
	if d == "." {
		return ""
	}
	return d
}

func result(err error) string { return errnoName(errnoOf(err)) }

// apply runs the operation on one side and describes its outcome.
func (o modelOp) apply(s *modelSide) string {
	p1, p2 := s.path(o.p1), s.path(o.p2)
	switch o.kind {
	case "create":
		fd, err := unix.Open(p1, o.flags|unix.O_CREAT|unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, o.mode)
		if err == nil {
			err = unix.Close(fd)
		}
		return result(err)
	case "write":
		fd, err := unix.Open(p1, o.flags|unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return result(err)
		}
		n, err := unix.Pwrite(fd, pattern(int(o.size), o.seed), o.off)
		if cerr := unix.Close(fd); err == nil {
			err = cerr
		}
		return fmt.Sprintf("%s n=%d", result(err), n)
	case "read":
		return contentDigest(p1)
	case "truncate":
		return result(unix.Truncate(p1, o.size))
	case "mkdir":
		return result(unix.Mkdir(p1, o.mode))
	case "mkfifo":
		return result(unix.Mkfifo(p1, o.mode))
	case "rmdir":
		return result(unix.Rmdir(p1))
	case "unlink":
		return result(unix.Unlink(p1))
	case "rename":
		err := unix.Renameat2(unix.AT_FDCWD, p1, unix.AT_FDCWD, p2, uint(o.flags))
		if e := errnoOf(err); o.flags == 0 && (e == unix.EEXIST || e == unix.ENOTEMPTY) {
			return "ENOTEMPTY or EEXIST" // POSIX allows either over a non-empty directory
		}
		return result(err)
	case "link":
		return result(unix.Link(p1, p2))
	case "symlink":
		return result(unix.Symlink(o.p2, p1))
	case "readlink":
		buf := make([]byte, 256)
		n, err := unix.Readlink(p1, buf)
		return fmt.Sprintf("%s %q", result(err), buf[:max(n, 0)])
	case "stat":
		var st unix.Stat_t
		err := unix.Stat(p1, &st)
		if err != nil {
			return result(err)
		}
		return fmt.Sprintf("success mode=%#o nlink=%d", st.Mode, st.Nlink)
	case "chmod":
		return result(unix.Chmod(p1, o.mode))
	case "chown":
		return result(unix.Fchownat(unix.AT_FDCWD, p1, o.uid, o.gid, o.flags))
	case "utimens":
		err := unix.UtimesNanoAt(unix.AT_FDCWD, p1, o.times[:], o.flags)
		if err != nil {
			return result(err)
		}
		var st unix.Stat_t
		if o.flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
			err = unix.Lstat(p1, &st)
		} else {
			err = unix.Stat(p1, &st)
		}
		// Only the times that were set are the same on both sides.
		out := result(err)
		for i, ts := range []unix.Timespec{st.Atim, st.Mtim} {
			if o.times[i].Nsec != unix.UTIME_OMIT {
				out += fmt.Sprintf(" %s=%v", []string{"atime", "mtime"}[i], ts)
			}
		}
		return out
	case "setxattr":
		return result(unix.Lsetxattr(p1, o.name, []byte(o.value), o.flags))
	case "removexattr":
		return result(unix.Lremovexattr(p1, o.name))
	case "getxattr":
		buf := make([]byte, 256)
		n, err := unix.Lgetxattr(p1, o.name, buf)
		return fmt.Sprintf("%s %q", result(err), buf[:max(n, 0)])
	case "readdir":
		names, err := listNames(p1)
		return fmt.Sprintf("%s %q", result(err), names)
	case "open":
		s.closeSlot(o.slot)
		fd, err := unix.Open(p1, o.flags|unix.O_NONBLOCK|unix.O_CLOEXEC, o.mode)
		if err == nil {
			s.fds[o.slot] = fd
		}
		return result(err)
	case "close":
		return result(s.closeSlot(o.slot))
	}
	fd := s.fds[o.slot]
	if fd < 0 {
		return "slot closed"
	}
	switch o.kind {
	case "fdwrite":
		data := pattern(int(o.size), o.seed)
		var n int
		var err error
		if o.flags != 0 {
			n, err = unix.Write(fd, data) // at the offset, or the end with O_APPEND
		} else {
			n, err = unix.Pwrite(fd, data, o.off)
		}
		return fmt.Sprintf("%s n=%d", result(err), n)
	case "fdread":
		buf := make([]byte, o.size)
		n, err := unix.Pread(fd, buf, o.off)
		return fmt.Sprintf("%s %s", result(err), digest(buf[:max(n, 0)]))
	case "fdtruncate":
		return result(unix.Ftruncate(fd, o.size))
	case "fsync":
		return result(unix.Fsync(fd))
	}
	panic("unknown model op " + o.kind)
}

func (s *modelSide) closeSlot(i int) error {
	fd := s.fds[i]
	if fd < 0 {
		return nil
	}
	s.fds[i] = -1
	return unix.Close(fd)
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return fmt.Sprintf("len=%d sha=%s", len(b), hex.EncodeToString(h[:6]))
}

// contentDigest reads a file through a non-blocking descriptor (it may be
// a fifo, whose read must not wait) and describes what it read.
func contentDigest(p string) string {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return result(err)
	}
	defer unix.Close(fd)
	h := sha256.New()
	buf := make([]byte, 1<<20)
	total := 0
	for range 1 << 12 { // files stay under 4 GiB here
		var n int
		n, err = unix.Read(fd, buf)
		if n <= 0 || err != nil {
			break
		}
		h.Write(buf[:n])
		total += n
	}
	return fmt.Sprintf("%s len=%d sha=%s", result(err), total, hex.EncodeToString(h.Sum(nil)[:6]))
}
