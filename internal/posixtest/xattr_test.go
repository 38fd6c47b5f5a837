package posixtest

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestXattr(t *testing.T) {
	cases := []fsCase{
		{"Errnos", testXattrErrnos},
		{"Sizes", testXattrSizes},
		{"Symlink", testXattrSymlink},
	}
	for _, ns := range []string{"user.", "trusted.", "security."} {
		cases = append(cases,
			fsCase{"File_" + strings.TrimSuffix(ns, "."), func(t *testing.T, dir string) {
				p := filepath.Join(dir, "f")
				writeFile(t, p, nil, 0o644)
				testXattrNamespace(t, p, ns)
			}},
			fsCase{"Dir_" + strings.TrimSuffix(ns, "."), func(t *testing.T, dir string) {
				p := filepath.Join(dir, "d")
				mkdir(t, p, 0o755)
				testXattrNamespace(t, p, ns)
			}})
	}
	runCases(t, cases)
}

// listXattr returns the sorted names listxattr reports for path.
func listXattr(t testing.TB, path string) []string {
	t.Helper()
	n, err := unix.Llistxattr(path, nil)
	must(t, "listxattr size", err)
	buf := make([]byte, n)
	n, err = unix.Llistxattr(path, buf)
	must(t, "listxattr", err)
	var names []string
	for _, s := range strings.Split(string(buf[:n]), "\x00") {
		if s != "" {
			names = append(names, s)
		}
	}
	slices.Sort(names)
	return names
}

func getXattr(t testing.TB, path, name string) []byte {
	t.Helper()
	n, err := unix.Lgetxattr(path, name, nil)
	must(t, "getxattr size "+name, err)
	buf := make([]byte, n+10)
	n, err = unix.Lgetxattr(path, name, buf)
	must(t, "getxattr "+name, err)
	return buf[:n]
}

func testXattrNamespace(t *testing.T, p, ns string) {
	a, b := ns+"alpha", ns+"beta"
	base := listXattr(t, p) // security.* may hold attributes of the system's own
	must(t, "set a", unix.Lsetxattr(p, a, []byte("one"), 0))
	must(t, "set b", unix.Lsetxattr(p, b, []byte("two\x00with nul"), unix.XATTR_CREATE))
	if got := getXattr(t, p, a); string(got) != "one" {
		t.Errorf("get %s: %q", a, got)
	}
	if got := getXattr(t, p, b); string(got) != "two\x00with nul" {
		t.Errorf("get %s: %q", b, got)
	}
	want := slices.Sorted(slices.Values(append(slices.Clone(base), a, b)))
	if got := listXattr(t, p); !slices.Equal(got, want) {
		t.Errorf("list: %q, want %q", got, want)
	}
	wantErrno(t, "XATTR_CREATE on existing", unix.Lsetxattr(p, a, []byte("x"), unix.XATTR_CREATE), unix.EEXIST)
	wantErrno(t, "XATTR_REPLACE on missing", unix.Lsetxattr(p, ns+"gamma", []byte("x"), unix.XATTR_REPLACE), unix.ENODATA)
	must(t, "XATTR_REPLACE", unix.Lsetxattr(p, a, []byte("uno!"), unix.XATTR_REPLACE))
	if got := getXattr(t, p, a); string(got) != "uno!" {
		t.Errorf("after replace: %q", got)
	}
	must(t, "overwrite with empty value", unix.Lsetxattr(p, a, nil, 0))
	if got := getXattr(t, p, a); len(got) != 0 {
		t.Errorf("empty value reads %q", got)
	}
	must(t, "remove b", unix.Lremovexattr(p, b))
	_, err := unix.Lgetxattr(p, b, make([]byte, 10))
	wantErrno(t, "get removed", err, unix.ENODATA)
	wantErrno(t, "remove removed", unix.Lremovexattr(p, b), unix.ENODATA)
	want = slices.Sorted(slices.Values(append(slices.Clone(base), a)))
	if got := listXattr(t, p); !slices.Equal(got, want) {
		t.Errorf("list after remove: %q, want %q", got, want)
	}
	must(t, "remove a", unix.Lremovexattr(p, a))
	if got := listXattr(t, p); !slices.Equal(got, base) {
		t.Errorf("list after removing all: %q, want %q", got, base)
	}
}

func testXattrErrnos(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, nil, 0o644)
	_, err := unix.Getxattr(p, "user.missing", make([]byte, 10))
	wantErrno(t, "get missing", err, unix.ENODATA)
	_, err = unix.Getxattr(p, "user.missing", nil)
	wantErrno(t, "get size of missing", err, unix.ENODATA)
	must(t, "set", unix.Setxattr(p, "user.k", []byte("0123456789"), 0))
	_, err = unix.Getxattr(p, "user.k", make([]byte, 3))
	wantErrno(t, "get into small buffer", err, unix.ERANGE)
	n, err := unix.Listxattr(p, nil)
	must(t, "list size", err)
	_, err = unix.Listxattr(p, make([]byte, n-1))
	wantErrno(t, "list into small buffer", err, unix.ERANGE)
	wantErrno(t, "unknown namespace", unix.Setxattr(p, "bogus.k", []byte("v"), 0), unix.EOPNOTSUPP)
	wantErrno(t, "no namespace", unix.Setxattr(p, "k", []byte("v"), 0), unix.EOPNOTSUPP)
	wantErrno(t, "empty name after prefix", unix.Setxattr(p, "user.", []byte("v"), 0), unix.EINVAL, unix.ERANGE)
	wantErrno(t, "both flags", unix.Setxattr(p, "user.k", []byte("v"), unix.XATTR_CREATE|unix.XATTR_REPLACE), unix.EINVAL, unix.EEXIST)
	_, err = unix.Getxattr(filepath.Join(dir, "missing"), "user.k", nil)
	wantErrno(t, "get on missing file", err, unix.ENOENT)
	// The attributes follow the inode, through links and renames.
	must(t, "link", unix.Link(p, filepath.Join(dir, "g")))
	must(t, "rename", unix.Rename(p, filepath.Join(dir, "h")))
	if got := getXattr(t, filepath.Join(dir, "g"), "user.k"); string(got) != "0123456789" {
		t.Errorf("through link: %q", got)
	}
	// Open, unlinked files keep theirs.
	fd := openFd(t, filepath.Join(dir, "h"), unix.O_RDONLY, 0)
	must(t, "unlink g", unix.Unlink(filepath.Join(dir, "g")))
	must(t, "unlink h", unix.Unlink(filepath.Join(dir, "h")))
	buf := make([]byte, 20)
	n, err = unix.Fgetxattr(fd, "user.k", buf)
	if err != nil || string(buf[:n]) != "0123456789" {
		t.Errorf("fgetxattr of unlinked file: %q, %v", buf[:n], err)
	}
	must(t, "fsetxattr on unlinked file", unix.Fsetxattr(fd, "user.new", []byte("v"), 0))
}

func testXattrSizes(t *testing.T, dir string) {
	p := filepath.Join(dir, "f")
	writeFile(t, p, nil, 0o644)
	// Many attributes and a long name; ext4 holds all of a file's attributes
	// in one block, so the large value goes to another file.
	var want []string
	for i := range 30 {
		name := "user." + strings.Repeat(string(rune('a'+i%26)), 10+i)
		want = append(want, name)
		must(t, "set "+name, unix.Setxattr(p, name, bytes.Repeat([]byte{byte(i)}, i*3), 0))
	}
	slices.Sort(want)
	if got := listXattr(t, p); !slices.Equal(got, want) {
		t.Errorf("list of 30: %d names, want %d", len(got), len(want))
	}
	long := "user." + strings.Repeat("n", 250) // 255 bytes, XATTR_NAME_MAX
	must(t, "set long name", unix.Setxattr(p, long, []byte("v"), 0))
	wantErrno(t, "name over 255", unix.Setxattr(p, long+"x", []byte("v"), 0), unix.ERANGE)
	q := filepath.Join(dir, "g")
	writeFile(t, q, nil, 0o644)
	big := pattern(2000, 9)
	must(t, "set 2000-byte value", unix.Setxattr(q, "user.big", big, 0))
	if got := getXattr(t, q, "user.big"); !bytes.Equal(got, big) {
		t.Errorf("2000-byte value differs (%d bytes)", len(got))
	}
	wantErrno(t, "value over 64 KiB", unix.Setxattr(q, "user.huge", make([]byte, 65537), 0), unix.E2BIG, unix.ENOSPC)
}

// testXattrSymlink: user.* attributes belong to files and directories only.
func testXattrSymlink(t *testing.T, dir string) {
	s := filepath.Join(dir, "s")
	writeFile(t, filepath.Join(dir, "f"), nil, 0o644)
	must(t, "symlink", unix.Symlink("f", s))
	wantErrno(t, "user xattr on symlink", unix.Lsetxattr(s, "user.k", []byte("v"), 0), unix.EPERM)
	must(t, "trusted xattr on symlink", unix.Lsetxattr(s, "trusted.k", []byte("v"), 0))
	if got := getXattr(t, s, "trusted.k"); string(got) != "v" {
		t.Errorf("trusted xattr of symlink: %q", got)
	}
	must(t, "user xattr through symlink", unix.Setxattr(s, "user.k", []byte("target"), 0))
	if got := getXattr(t, filepath.Join(dir, "f"), "user.k"); string(got) != "target" {
		t.Errorf("xattr set through symlink: %q", got)
	}
	fifo := filepath.Join(dir, "fifo")
	must(t, "mkfifo", unix.Mkfifo(fifo, 0o644))
	wantErrno(t, "user xattr on fifo", unix.Lsetxattr(fifo, "user.k", []byte("v"), 0), unix.EPERM)
}
