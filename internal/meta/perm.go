package meta

import "syscall"

const (
	mayExec  = 1
	mayWrite = 2
	mayRead  = 4
)

var (
	errInval = syscall.EINVAL
	errPerm  = syscall.EPERM
	errAcces = syscall.EACCES
)

// access checks the caller's permission bits on n (owner, group, other;
// the superuser passes except for execute without any x bit).
func access(c Caller, n *inode, mask uint32) error {
	if c.UID == 0 {
		if mask&mayExec != 0 && !n.isDir() && n.Mode&0o111 == 0 {
			return errAcces
		}
		return nil
	}
	var perm uint32
	switch {
	case c.UID == n.UID:
		perm = n.Mode >> 6
	case c.InGroup(n.GID):
		perm = n.Mode >> 3
	default:
		perm = n.Mode
	}
	if perm&mask&7 != mask {
		return errAcces
	}
	return nil
}

// stickyOK reports whether c may remove or rename child out of dir: in a
// sticky directory only the owner of the child or of the directory (or
// the superuser) may.
func stickyOK(c Caller, dir, child *inode) bool {
	if dir.Mode&syscall.S_ISVTX == 0 || c.UID == 0 {
		return true
	}
	return c.UID == child.UID || c.UID == dir.UID
}

// validName checks a single path component.
func validName(name string) error {
	if name == "" || name == "." || name == ".." {
		return errInval
	}
	if len(name) > 255 {
		return syscall.ENAMETOOLONG
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return errInval
		}
	}
	return nil
}

// killSUID clears suid, and sgid where Linux would: when the file is a
// setgid executable (group execute set) or the caller is neither in the
// file's group nor the superuser. It is what a write by a caller without
// CAP_FSETID, or a chown, does.
func killSUID(n *inode, c Caller) {
	if n.isDir() {
		return
	}
	n.Mode &^= syscall.S_ISUID
	if n.Mode&syscall.S_ISGID != 0 && (n.Mode&0o010 != 0 || c.UID != 0 && !c.InGroup(n.GID)) {
		n.Mode &^= syscall.S_ISGID
	}
}

// CheckName checks a path component a caller names: not empty, "." or
// "..", no slash or NUL, at most 255 bytes.
func CheckName(name string) error { return validName(name) }
