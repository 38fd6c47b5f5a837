package posixtest

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNames(t *testing.T) {
	runCases(t, []fsCase{
		{"NameMax", testNameMax},
		{"OddNames", testOddNames},
	})
}

// testNameMax: a name of 255 bytes works everywhere, one of 256 fails with
// ENAMETOOLONG everywhere a name is given.
func testNameMax(t *testing.T, dir string) {
	n255 := strings.Repeat("n", 255)
	n256 := strings.Repeat("n", 256)
	ok := filepath.Join(dir, n255)
	long := filepath.Join(dir, n256)
	writeFile(t, ok, []byte("x"), 0o644)
	wantContent(t, ok, []byte("x"))
	wantNames(t, dir, n255)
	must(t, "rename to 255-byte name", unix.Rename(ok, filepath.Join(dir, "short")))
	must(t, "rename back", unix.Rename(filepath.Join(dir, "short"), ok))
	d255 := filepath.Join(dir, strings.Repeat("d", 255))
	mkdir(t, d255, 0o755)
	must(t, "symlink with 255-byte name", unix.Symlink("target", filepath.Join(d255, strings.Repeat("s", 255))))
	must(t, "link with 255-byte name", unix.Link(ok, filepath.Join(d255, strings.Repeat("l", 255))))

	var st unix.Stat_t
	_, err := unix.Open(long, unix.O_CREAT|unix.O_WRONLY, 0o644)
	wantErrno(t, "create 256-byte name", err, unix.ENAMETOOLONG)
	wantErrno(t, "stat 256-byte name", unix.Lstat(long, &st), unix.ENAMETOOLONG)
	wantErrno(t, "mkdir 256-byte name", unix.Mkdir(long, 0o755), unix.ENAMETOOLONG)
	wantErrno(t, "symlink 256-byte name", unix.Symlink("target", long), unix.ENAMETOOLONG)
	wantErrno(t, "link 256-byte name", unix.Link(ok, long), unix.ENAMETOOLONG)
	wantErrno(t, "rename to 256-byte name", unix.Rename(ok, long), unix.ENAMETOOLONG)
	wantErrno(t, "mknod 256-byte name", unix.Mknod(long, unix.S_IFIFO|0o644, 0), unix.ENAMETOOLONG)
	wantErrno(t, "unlink 256-byte name", unix.Unlink(long), unix.ENAMETOOLONG)
	wantNames(t, dir, n255, filepath.Base(d255))
	wantContent(t, ok, []byte("x"))
}

// testOddNames: names are bytes; anything but '/' and NUL is allowed.
func testOddNames(t *testing.T, dir string) {
	names := []string{" ", "-", "...", "a b", "tab\there", "nl\nhere", "\xff\xfe", "ünïcödé", "*?[]", "back\\slash", ".hidden"}
	for _, n := range names {
		writeFile(t, filepath.Join(dir, n), []byte(n), 0o644)
	}
	wantNames(t, dir, names...)
	for _, n := range names {
		wantContent(t, filepath.Join(dir, n), []byte(n))
	}
	// Names differing only in case are different names.
	writeFile(t, filepath.Join(dir, "Case"), []byte("upper"), 0o644)
	writeFile(t, filepath.Join(dir, "case"), []byte("lower"), 0o644)
	wantContent(t, filepath.Join(dir, "Case"), []byte("upper"))
	wantContent(t, filepath.Join(dir, "case"), []byte("lower"))
}
