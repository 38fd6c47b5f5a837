package posixtest

import (
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPersistence writes a tree, syncs it, remounts the volume and checks
// that everything is still there, the same. On the native file system the
// "remount" is nothing, which checks the check.
func TestPersistence(t *testing.T) {
	t.Run("native", func(t *testing.T) {
		t.Parallel()
		root := nativeRoot(t)
		testPersistence(t, root, func() string { return root })
	})
	t.Run("ferry", func(t *testing.T) {
		t.Parallel()
		m := ferryMount(t)
		testPersistence(t, m.Dir, func() string { return ferryRemount(t, m) })
	})
}

// persisted is what is checked after the remount, per path.
type persisted struct {
	st      unix.Stat_t
	content []byte
	target  string
	xattrs  map[string]string
	names   []string
}

func testPersistence(t *testing.T, root string, remount func() string) {
	dir := filepath.Join(root, "p")
	mkdir(t, dir, 0o755)
	big := pattern(5<<20+333, 4)
	tree := []struct {
		rel   string
		build func(p string)
	}{
		{"d", func(p string) { mkdir(t, p, 0o750) }},
		{"d/sub", func(p string) { mkdir(t, p, 0o700) }},
		{"d/sub/deep", func(p string) { writeFile(t, p, []byte("deep"), 0o600) }},
		{"small", func(p string) { writeFile(t, p, []byte("small file"), 0o644) }},
		{"big", func(p string) {
			fd := openRaw(t, p, unix.O_CREAT|unix.O_WRONLY, 0o644)
			pwrite(t, fd, big, 0)
			pwrite(t, fd, []byte("patched"), 3<<20)
			must(t, "fsync big", unix.Fsync(fd))
			must(t, "close big", unix.Close(fd))
		}},
		{"sparse", func(p string) {
			fd := openRaw(t, p, unix.O_CREAT|unix.O_WRONLY, 0o644)
			pwrite(t, fd, []byte("far"), 5<<30)
			must(t, "fdatasync", unix.Fdatasync(fd))
			must(t, "close sparse", unix.Close(fd))
		}},
		{"empty", func(p string) { writeFile(t, p, nil, 0o400) }},
		{"truncated", func(p string) {
			writeFile(t, p, pattern(100000, 2), 0o644)
			must(t, "truncate", unix.Truncate(p, 777))
		}},
		{"link1", func(p string) { writeFile(t, p, []byte("linked"), 0o640) }},
		{"d/link2", func(p string) { must(t, "link", unix.Link(filepath.Join(dir, "link1"), p)) }},
		{"sym", func(p string) { must(t, "symlink", unix.Symlink("d/sub/deep", p)) }},
		{"dangling", func(p string) { must(t, "symlink", unix.Symlink("/no/such/path", p)) }},
		{"fifo", func(p string) { must(t, "mkfifo", unix.Mkfifo(p, 0o620)) }},
		{"chr", func(p string) { must(t, "mknod", unix.Mknod(p, unix.S_IFCHR|0o600, int(unix.Mkdev(4, 64)))) }},
		{"owned", func(p string) {
			writeFile(t, p, []byte("owned"), 0o644)
			must(t, "chown", unix.Chown(p, 4242, 4343))
			must(t, "chmod", unix.Chmod(p, 0o6754))
		}},
		{"sticky", func(p string) {
			mkdir(t, p, 0o777)
			must(t, "chmod", unix.Chmod(p, 0o1777))
		}},
		{"xattrs", func(p string) {
			writeFile(t, p, nil, 0o644)
			must(t, "setxattr", unix.Setxattr(p, "user.one", []byte("1"), 0))
			must(t, "setxattr", unix.Setxattr(p, "user.bin", []byte{0, 1, 2, 255}, 0))
			must(t, "setxattr", unix.Setxattr(p, "trusted.t", []byte("trusted"), 0))
			must(t, "setxattr", unix.Setxattr(p, "user.gone", []byte("x"), 0))
			must(t, "removexattr", unix.Removexattr(p, "user.gone"))
		}},
		{"d/dirxattr", func(p string) {
			mkdir(t, p, 0o755)
			must(t, "setxattr", unix.Setxattr(p, "user.dir", []byte("on a dir"), 0))
		}},
		{"renamed-to", func(p string) {
			writeFile(t, filepath.Join(dir, "renamed-from"), []byte("moved"), 0o644)
			must(t, "rename", unix.Rename(filepath.Join(dir, "renamed-from"), p))
		}},
		{"times", func(p string) {
			writeFile(t, p, []byte("t"), 0o644)
			must(t, "utimensat", unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{{Sec: 1111111111, Nsec: 111}, {Sec: 1222222222, Nsec: 222}}, 0))
		}},
	}
	for _, e := range tree {
		e.build(filepath.Join(dir, e.rel))
	}
	// Things created and removed again must stay removed.
	writeFile(t, filepath.Join(dir, "deleted"), []byte("x"), 0o644)
	must(t, "unlink", unix.Unlink(filepath.Join(dir, "deleted")))
	mkdir(t, filepath.Join(dir, "rmdired"), 0o755)
	must(t, "rmdir", unix.Rmdir(filepath.Join(dir, "rmdired")))
	// An open, unlinked file goes away with the mount.
	fd := openRaw(t, filepath.Join(dir, "orphan"), unix.O_CREAT|unix.O_RDWR, 0o644)
	pwrite(t, fd, []byte("orphan"), 0)
	must(t, "unlink orphan", unix.Unlink(filepath.Join(dir, "orphan")))
	must(t, "close orphan", unix.Close(fd))
	must(t, "syncfs", syncfs(dir))

	before := map[string]persisted{".": capture(t, dir)}
	for _, e := range tree {
		before[e.rel] = capture(t, filepath.Join(dir, e.rel))
	}

	root = remount()
	dir = filepath.Join(root, "p")
	for rel, want := range before {
		got := capture(t, filepath.Join(dir, rel))
		comparePersisted(t, rel, want, got)
	}
	wantNames(t, dir, before["."].names...)
	// The remounted volume takes new work.
	writeFile(t, filepath.Join(dir, "after"), []byte("after"), 0o644)
	wantContent(t, filepath.Join(dir, "after"), []byte("after"))
	wantNlink(t, "link1 after remount", lstat(t, filepath.Join(dir, "link1")), 2)
	if a, b := lstat(t, filepath.Join(dir, "link1")), lstat(t, filepath.Join(dir, "d", "link2")); a.Ino != b.Ino {
		t.Errorf("hard links lost their shared inode: %d, %d", a.Ino, b.Ino)
	}
}

func syncfs(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Syncfs(fd)
}

func capture(t *testing.T, p string) persisted {
	t.Helper()
	var c persisted
	c.st = lstat(t, p)
	switch c.st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		c.content = sampleContent(t, p, c.st.Size)
	case unix.S_IFLNK:
		buf := make([]byte, 4096)
		n, err := unix.Readlink(p, buf)
		must(t, "readlink", err)
		c.target = string(buf[:n])
	case unix.S_IFDIR:
		c.names = readdirNames(t, p)
	}
	c.xattrs = map[string]string{}
	if c.st.Mode&unix.S_IFMT != unix.S_IFLNK {
		for _, name := range listXattr(t, p) {
			c.xattrs[name] = string(getXattr(t, p, name))
		}
	}
	return c
}

// sampleContent reads a file whole, or its first and last MiB when it is
// large (a sparse file of gigabytes is not read through).
func sampleContent(t *testing.T, p string, size int64) []byte {
	t.Helper()
	if size <= 16<<20 {
		return readFile(t, p)
	}
	fd := openRaw(t, p, unix.O_RDONLY, 0)
	defer unix.Close(fd)
	return append(pread(t, fd, 1<<20, 0), pread(t, fd, 1<<20, size-1<<20)...)
}

func comparePersisted(t *testing.T, rel string, want, got persisted) {
	t.Helper()
	w, g := want.st, got.st
	if w.Mode != g.Mode || w.Nlink != g.Nlink || w.Uid != g.Uid || w.Gid != g.Gid || w.Rdev != g.Rdev || w.Ino != g.Ino {
		t.Errorf("%s: mode %#o nlink %d %d:%d rdev %#x ino %d, was mode %#o nlink %d %d:%d rdev %#x ino %d",
			rel, g.Mode, g.Nlink, g.Uid, g.Gid, g.Rdev, g.Ino, w.Mode, w.Nlink, w.Uid, w.Gid, w.Rdev, w.Ino)
	}
	if w.Mode&unix.S_IFMT != unix.S_IFDIR && w.Size != g.Size {
		t.Errorf("%s: size %d, was %d", rel, g.Size, w.Size)
	}
	if w.Mtim != g.Mtim || w.Ctim != g.Ctim {
		t.Errorf("%s: mtime %v ctime %v, was %v %v", rel, g.Mtim, g.Ctim, w.Mtim, w.Ctim)
	}
	if string(want.content) != string(got.content) {
		t.Errorf("%s: content differs (%d bytes, was %d)", rel, len(got.content), len(want.content))
	}
	if want.target != got.target {
		t.Errorf("%s: symlink target %q, was %q", rel, got.target, want.target)
	}
	if !slices.Equal(want.names, got.names) {
		t.Errorf("%s: entries %q, were %q", rel, got.names, want.names)
	}
	if len(want.xattrs) != len(got.xattrs) {
		t.Errorf("%s: xattrs %q, were %q", rel, got.xattrs, want.xattrs)
	}
	for k, v := range want.xattrs {
		if got.xattrs[k] != v {
			t.Errorf("%s: xattr %s = %q, was %q", rel, k, got.xattrs[k], v)
		}
	}
}
