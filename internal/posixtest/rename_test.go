package posixtest

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRename(t *testing.T) {
	runCases(t, []fsCase{
		{"OverFile", testRenameOverFile},
		{"OverEmptyDir", testRenameOverEmptyDir},
		{"OverNonEmptyDir", testRenameOverNonEmptyDir},
		{"TypeMismatch", testRenameTypeMismatch},
		{"AcrossDirs", testRenameAcrossDirs},
		{"NoReplace", testRenameNoReplace},
		{"Exchange", testRenameExchange},
		{"IntoOwnSubtree", testRenameIntoSubtree},
		{"ToItself", testRenameToItself},
		{"Errnos", testRenameErrnos},
	})
}

func renameat2(from, to string, flags uint) error {
	return unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, flags)
}

func testRenameOverFile(t *testing.T, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, []byte("from a"), 0o600)
	writeFile(t, b, []byte("from b"), 0o644)
	ino := lstat(t, a).Ino
	must(t, "rename a b", unix.Rename(a, b))
	st := lstat(t, b)
	if st.Ino != ino {
		t.Errorf("b has inode %d, want a's %d", st.Ino, ino)
	}
	wantMode(t, "b", st, unix.S_IFREG|0o600)
	wantContent(t, b, []byte("from a"))
	wantNames(t, dir, "b")
	// Over a file with other links: the other links keep it.
	c, d := filepath.Join(dir, "c"), filepath.Join(dir, "d")
	writeFile(t, c, []byte("from c"), 0o644)
	must(t, "link c d", unix.Link(c, d))
	must(t, "rename b c", unix.Rename(b, c))
	wantNlink(t, "d", lstat(t, d), 1)
	wantContent(t, d, []byte("from c"))
	wantContent(t, c, []byte("from a"))
	// A symlink is renamed, not its target.
	must(t, "symlink", unix.Symlink("d", filepath.Join(dir, "s")))
	must(t, "rename symlink", unix.Rename(filepath.Join(dir, "s"), filepath.Join(dir, "s2")))
	if st := lstat(t, filepath.Join(dir, "s2")); st.Mode&unix.S_IFMT != unix.S_IFLNK {
		t.Errorf("renamed symlink has mode %#o", st.Mode)
	}
	wantNames(t, dir, "c", "d", "s2")
}

func testRenameOverEmptyDir(t *testing.T, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	mkdir(t, a, 0o755)
	mkdir(t, b, 0o700)
	writeFile(t, filepath.Join(a, "inside"), []byte("x"), 0o644)
	ino := lstat(t, a).Ino
	wantNlink(t, "parent before", lstat(t, dir), 4)
	must(t, "rename dir over empty dir", unix.Rename(a, b))
	st := lstat(t, b)
	if st.Ino != ino {
		t.Errorf("b has inode %d, want %d", st.Ino, ino)
	}
	wantMode(t, "b", st, unix.S_IFDIR|0o755)
	wantContent(t, filepath.Join(b, "inside"), []byte("x"))
	wantNlink(t, "parent after", lstat(t, dir), 3)
	wantNames(t, dir, "b")
}

func testRenameOverNonEmptyDir(t *testing.T, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	mkdir(t, a, 0o755)
	mkdir(t, b, 0o755)
	writeFile(t, filepath.Join(b, "keep"), []byte("kept"), 0o644)
	wantErrno(t, "rename over non-empty dir", unix.Rename(a, b), unix.ENOTEMPTY, unix.EEXIST)
	wantErrno(t, "RENAME_NOREPLACE over non-empty dir", renameat2(a, b, unix.RENAME_NOREPLACE), unix.EEXIST)
	wantContent(t, filepath.Join(b, "keep"), []byte("kept"))
	wantNames(t, dir, "a", "b")
	wantNlink(t, "parent", lstat(t, dir), 4)
}

func testRenameTypeMismatch(t *testing.T, dir string) {
	f, d := filepath.Join(dir, "f"), filepath.Join(dir, "d")
	writeFile(t, f, nil, 0o644)
	mkdir(t, d, 0o755)
	wantErrno(t, "rename file over dir", unix.Rename(f, d), unix.EISDIR)
	wantErrno(t, "rename dir over file", unix.Rename(d, f), unix.ENOTDIR)
	must(t, "symlink", unix.Symlink("d", filepath.Join(dir, "s")))
	wantErrno(t, "rename dir over symlink to dir", unix.Rename(d, filepath.Join(dir, "s")), unix.ENOTDIR)
	wantErrno(t, "rename to path through a file", unix.Rename(d, filepath.Join(f, "x")), unix.ENOTDIR)
	wantErrno(t, "rename file to name/ ", unix.Rename(f, filepath.Join(dir, "g")+"/"), unix.ENOTDIR)
	wantNames(t, dir, "d", "f", "s")
}

func testRenameAcrossDirs(t *testing.T, dir string) {
	p1, p2 := filepath.Join(dir, "p1"), filepath.Join(dir, "p2")
	mkdir(t, p1, 0o755)
	mkdir(t, p2, 0o755)
	d := filepath.Join(p1, "d")
	mkdir(t, d, 0o755)
	writeFile(t, filepath.Join(d, "f"), []byte("in d"), 0o644)
	writeFile(t, filepath.Join(p1, "file"), []byte("file"), 0o644)
	wantNlink(t, "p1 before", lstat(t, p1), 3)
	wantNlink(t, "p2 before", lstat(t, p2), 2)
	must(t, "rename dir across", unix.Rename(d, filepath.Join(p2, "moved")))
	wantNlink(t, "p1 after", lstat(t, p1), 2)
	wantNlink(t, "p2 after", lstat(t, p2), 3)
	moved := filepath.Join(p2, "moved")
	wantNlink(t, "moved dir", lstat(t, moved), 2)
	if up, want := stat(t, moved+"/..").Ino, lstat(t, p2).Ino; up != want {
		t.Errorf("moved/.. is inode %d, want p2 %d", up, want)
	}
	wantContent(t, filepath.Join(moved, "f"), []byte("in d"))
	must(t, "rename file across", unix.Rename(filepath.Join(p1, "file"), filepath.Join(moved, "file2")))
	wantContent(t, filepath.Join(moved, "file2"), []byte("file"))
	wantNames(t, p1)
	wantNames(t, moved, "f", "file2")
	// Replacing an empty dir in another parent: both parents lose one.
	mkdir(t, filepath.Join(p1, "e"), 0o755)
	wantNlink(t, "p1 with e", lstat(t, p1), 3)
	must(t, "rename dir over empty dir across", unix.Rename(moved, filepath.Join(p1, "e")))
	wantNlink(t, "p1 after replace", lstat(t, p1), 3)
	wantNlink(t, "p2 after replace", lstat(t, p2), 2)
	wantNames(t, filepath.Join(p1, "e"), "f", "file2")
}

func testRenameNoReplace(t *testing.T, dir string) {
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, []byte("a"), 0o644)
	writeFile(t, b, []byte("b"), 0o644)
	wantErrno(t, "RENAME_NOREPLACE over a file", renameat2(a, b, unix.RENAME_NOREPLACE), unix.EEXIST)
	wantContent(t, a, []byte("a"))
	wantContent(t, b, []byte("b"))
	c := filepath.Join(dir, "c")
	must(t, "RENAME_NOREPLACE to a new name", renameat2(a, c, unix.RENAME_NOREPLACE))
	wantContent(t, c, []byte("a"))
	wantNames(t, dir, "b", "c")
	wantErrno(t, "RENAME_NOREPLACE|RENAME_EXCHANGE", renameat2(b, c, unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE), unix.EINVAL)
}

// testRenameExchange swaps a file and a directory that live in different
// parents: the names trade places, parents' link counts follow the
// directory, and the directory's ".." moves.
func testRenameExchange(t *testing.T, dir string) {
	p1, p2 := filepath.Join(dir, "p1"), filepath.Join(dir, "p2")
	mkdir(t, p1, 0o755)
	mkdir(t, p2, 0o755)
	f := filepath.Join(p1, "f")
	d := filepath.Join(p2, "d")
	writeFile(t, f, []byte("file"), 0o644)
	mkdir(t, d, 0o700)
	writeFile(t, filepath.Join(d, "inner"), []byte("inner"), 0o644)
	fino, dino := lstat(t, f).Ino, lstat(t, d).Ino
	must(t, "RENAME_EXCHANGE", renameat2(f, d, unix.RENAME_EXCHANGE))
	sf, sd := lstat(t, f), lstat(t, d)
	if sf.Ino != dino || sf.Mode != unix.S_IFDIR|0o700 {
		t.Errorf("p1/f: ino %d mode %#o, want dir ino %d", sf.Ino, sf.Mode, dino)
	}
	if sd.Ino != fino || sd.Mode != unix.S_IFREG|0o644 {
		t.Errorf("p2/d: ino %d mode %#o, want file ino %d", sd.Ino, sd.Mode, fino)
	}
	wantNlink(t, "p1", lstat(t, p1), 3)
	wantNlink(t, "p2", lstat(t, p2), 2)
	if up, want := stat(t, f+"/..").Ino, lstat(t, p1).Ino; up != want {
		t.Errorf("exchanged dir's .. is %d, want p1 %d", up, want)
	}
	wantContent(t, filepath.Join(f, "inner"), []byte("inner"))
	wantContent(t, d, []byte("file"))
	// Two files in one directory.
	x, y := filepath.Join(p1, "x"), filepath.Join(p1, "y")
	writeFile(t, x, []byte("x"), 0o644)
	writeFile(t, y, []byte("y"), 0o644)
	must(t, "exchange two files", renameat2(x, y, unix.RENAME_EXCHANGE))
	wantContent(t, x, []byte("y"))
	wantContent(t, y, []byte("x"))
	wantErrno(t, "exchange with missing", renameat2(x, filepath.Join(p1, "missing"), unix.RENAME_EXCHANGE), unix.ENOENT)
	wantErrno(t, "exchange dir with its child", renameat2(f, filepath.Join(f, "inner"), unix.RENAME_EXCHANGE), unix.EINVAL)
	wantErrno(t, "exchange child with its ancestor", renameat2(filepath.Join(f, "inner"), p1, unix.RENAME_EXCHANGE), unix.EINVAL)
	wantNames(t, p1, "f", "x", "y")
	wantNames(t, p2, "d")
}

func testRenameIntoSubtree(t *testing.T, dir string) {
	a := filepath.Join(dir, "a")
	mkdir(t, a, 0o755)
	mkdir(t, filepath.Join(a, "b"), 0o755)
	mkdir(t, filepath.Join(a, "b", "c"), 0o755)
	wantErrno(t, "rename a into a/b/c", unix.Rename(a, filepath.Join(a, "b", "c", "a")), unix.EINVAL)
	wantErrno(t, "rename a into a", unix.Rename(a, filepath.Join(a, "x")), unix.EINVAL)
	wantErrno(t, "rename a over its own descendant", unix.Rename(a, filepath.Join(a, "b", "c")), unix.EINVAL)
	wantErrno(t, "rename a/b over a", unix.Rename(filepath.Join(a, "b"), a), unix.ENOTEMPTY)
	wantErrno(t, "rename . ", unix.Rename(a+"/.", filepath.Join(dir, "z")), unix.EBUSY, unix.EINVAL)
	wantNames(t, dir, "a")
	wantNames(t, filepath.Join(a, "b"), "c")
}

func testRenameToItself(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, []byte("same"), 0o644)
	before := lstat(t, f)
	must(t, "rename f f", unix.Rename(f, f))
	after := lstat(t, f)
	if after.Ino != before.Ino || after.Nlink != 1 {
		t.Errorf("after rename to itself: ino %d nlink %d", after.Ino, after.Nlink)
	}
	wantContent(t, f, []byte("same"))
	// Two links of one inode: a no-op, both names stay.
	g := filepath.Join(dir, "g")
	must(t, "link", unix.Link(f, g))
	must(t, "rename f over its own hard link", unix.Rename(f, g))
	wantNames(t, dir, "f", "g")
	wantNlink(t, "f", lstat(t, f), 2)
	must(t, "RENAME_NOREPLACE to itself", func() error {
		err := renameat2(f, f, unix.RENAME_NOREPLACE)
		if errnoOf(err) == unix.EEXIST {
			return nil
		}
		return err
	}())
	d := filepath.Join(dir, "d")
	mkdir(t, d, 0o755)
	must(t, "rename d d", unix.Rename(d, d))
	wantNlink(t, "dir", lstat(t, dir), 3)
	wantNames(t, dir, "d", "f", "g")
}

func testRenameErrnos(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, nil, 0o644)
	wantErrno(t, "rename missing", unix.Rename(filepath.Join(dir, "missing"), filepath.Join(dir, "x")), unix.ENOENT)
	wantErrno(t, "rename into missing dir", unix.Rename(f, filepath.Join(dir, "missing", "x")), unix.ENOENT)
	wantErrno(t, "rename with bad flags", renameat2(f, filepath.Join(dir, "x"), 1<<10), unix.EINVAL)
	wantNames(t, dir, "f")
}
