package fusefs_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testmount"
	"golang.org/x/sys/unix"
)

// These tests run the adapter over the real metadata service and data
// path: a fresh volume mounted by internal/testmount.

// liveMount mounts a fresh volume whose root any user may enter.
func liveMount(t *testing.T) string {
	t.Helper()
	m := testmount.New(t, testmount.Options{})
	for d := filepath.Dir(m.Dir); d != "/" && d != "."; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Chmod(m.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return m.Dir
}

// inodesUsed is the number of inodes the volume holds.
func inodesUsed(t *testing.T, dir string) uint64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Files - st.Ffree
}

// waitInodes waits (a bounded while) for the volume to hold want inodes:
// the kernel forgets an unlinked inode after the last close returns.
func waitInodes(t *testing.T, dir string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := inodesUsed(t, dir)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("volume holds %d inodes, want %d", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLiveTmpfile(t *testing.T) {
	dir := liveMount(t)
	base := inodesUsed(t, dir)

	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR, 0o640)
	if err != nil {
		t.Fatalf("open O_TMPFILE: %v", err)
	}
	if _, err := unix.Write(fd, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Nlink != 0 || st.Mode != unix.S_IFREG|0o640 {
		t.Fatalf("fstat of the tmpfile: %+v %v", st, err)
	}
	if err := unix.Linkat(fd, "", unix.AT_FDCWD, filepath.Join(dir, "named"), unix.AT_EMPTY_PATH); err != nil {
		t.Fatalf("linkat: %v", err)
	}
	unix.Close(fd)
	if b, err := os.ReadFile(filepath.Join(dir, "named")); err != nil || string(b) != "kept" {
		t.Fatalf("read the linked tmpfile: %q %v", b, err)
	}

	// One never linked is gone at its last close.
	fd, err = unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fd, []byte("dropped")); err != nil {
		t.Fatal(err)
	}
	if got := inodesUsed(t, dir); got != base+2 {
		t.Fatalf("%d inodes with two tmpfiles, want %d", got, base+2)
	}
	unix.Close(fd)
	waitInodes(t, dir, base+1)
}

// TestLiveSpecialFilesOutliveUnlink checks that a fifo, socket or device
// unlinked while a process holds it (the kernel sends no OPEN for them,
// nor for O_PATH) stays usable through that descriptor and is deleted
// after the last one closes.
func TestLiveSpecialFilesOutliveUnlink(t *testing.T) {
	dir := liveMount(t)
	base := inodesUsed(t, dir)

	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ffd, err := unix.Open(fifo, unix.O_RDWR|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	if err := unix.Mknod(sock, unix.S_IFSOCK|0o600, 0); err != nil {
		t.Fatal(err)
	}
	sfd, err := unix.Open(sock, unix.O_PATH, 0)
	if err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(dir, "null")
	if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	dfd, err := unix.Open(dev, unix.O_PATH, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, sock, dev} {
		if err := unix.Unlink(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		fd   int
		mode uint32
	}{{ffd, unix.S_IFIFO}, {sfd, unix.S_IFSOCK}, {dfd, unix.S_IFCHR}} {
		var st unix.Stat_t
		if err := unix.Fstat(c.fd, &st); err != nil || st.Nlink != 0 || st.Mode&unix.S_IFMT != c.mode {
			t.Fatalf("fstat of an unlinked %o: %+v %v", c.mode, st, err)
		}
	}
	if _, err := unix.Write(ffd, []byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if n, err := unix.Read(ffd, buf); n != 1 || err != nil || buf[0] != 'x' {
		t.Fatalf("read the fifo: %d %v", n, err)
	}
	if got := inodesUsed(t, dir); got != base+3 {
		t.Fatalf("%d inodes while the unlinked ones are held, want %d", got, base+3)
	}
	unix.Close(ffd)
	unix.Close(sfd)
	unix.Close(dfd)
	waitInodes(t, dir, base)
}

// sh runs script as uid and gid (root if uid is 0) with umask 077 and
// returns its combined output.
func sh(t *testing.T, uid uint32, script string) (string, error) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "umask 077; "+script)
	cmd.Dir = "/"
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustSh(t *testing.T, uid uint32, script string) string {
	t.Helper()
	out, err := sh(t, uid, script)
	if err != nil {
		t.Fatalf("%s as uid %d: %v\n%s", script, uid, err, out)
	}
	return out
}

// TestLivePOSIXACL sets ACLs with setfacl and checks, as other users,
// that the kernel and the server grant what they say: a user named in an
// ACL gets in, one not named does not; chmod narrows the named user's
// access through the mask; a default ACL is inherited, umask or not.
func TestLivePOSIXACL(t *testing.T) {
	for _, tool := range []string{"setfacl", "getfacl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing (apt-get install acl)", tool)
			}
			t.Skipf("%s is missing (apt-get install acl)", tool)
		}
	}
	dir := liveMount(t)
	const named, stranger = 4321, 4322

	secret := filepath.Join(dir, "secret")
	mustSh(t, 0, "printf hush > "+secret+" && chmod 600 "+secret)
	if out, err := sh(t, named, "cat "+secret); err == nil {
		t.Fatalf("uid %d read a 0600 file before any ACL: %q", named, out)
	}
	mustSh(t, 0, "setfacl -m u:4321:r "+secret)
	acl := mustSh(t, 0, "getfacl -cn "+secret)
	for _, want := range []string{"user::rw-", "user:4321:r--", "mask::r--", "other::---"} {
		if !strings.Contains(acl, want) {
			t.Fatalf("getfacl lacks %q:\n%s", want, acl)
		}
	}
	if ls := mustSh(t, 0, "ls -l "+secret); !strings.HasPrefix(ls, "-rw-r-----+") {
		t.Fatalf("ls -l: %q, want mode -rw-r-----+", ls)
	}
	if out := mustSh(t, named, "cat "+secret); out != "hush" {
		t.Fatalf("named user read %q", out)
	}
	if out, err := sh(t, stranger, "cat "+secret); err == nil || !strings.Contains(out, "Permission denied") {
		t.Fatalf("a user not named read it: %q %v", out, err)
	}
	if out, err := sh(t, named, "printf x >> "+secret); err == nil {
		t.Fatalf("named user wrote with a read-only entry: %q", out)
	}

	// chmod sets the mask: the named entry is cut to nothing.
	mustSh(t, 0, "chmod 600 "+secret)
	if acl := mustSh(t, 0, "getfacl -cn "+secret); !strings.Contains(acl, "mask::---") {
		t.Fatalf("chmod 600 did not set the mask:\n%s", acl)
	}
	if out, err := sh(t, named, "cat "+secret); err == nil {
		t.Fatalf("named user read past a mask of ---: %q", out)
	}

	// A shared directory: only the named user may make files in it, and
	// what it makes inherits the default ACL whatever the umask.
	shared := filepath.Join(dir, "shared")
	mustSh(t, 0, "mkdir -m 700 "+shared+" && setfacl -m u:4321:rwx "+shared+" && setfacl -d -m u:4321:rwx,u:4322:r "+shared)
	mustSh(t, named, "echo hi > "+shared+"/f && mkdir "+shared+"/sub")
	if out, err := sh(t, stranger, "ls "+shared); err == nil {
		t.Fatalf("a user not named listed the directory: %q", out)
	}
	st, err := os.Stat(filepath.Join(shared, "f"))
	if err != nil {
		t.Fatal(err)
	}
	// Created with 0666 under umask 077: the default ACL's owner rwx,
	// mask rwx and other --- cut to rw-, rw-, ---.
	if st.Mode().Perm() != 0o660 {
		t.Fatalf("inherited file mode %o, want 660", st.Mode().Perm())
	}
	facl := mustSh(t, 0, "getfacl -cn "+shared+"/f")
	for _, want := range []string{"user:4321:rwx\t#effective:rw-", "user:4322:r--", "mask::rw-"} {
		if !strings.Contains(facl, want) {
			t.Fatalf("inherited ACL lacks %q:\n%s", want, facl)
		}
	}
	sub := mustSh(t, 0, "getfacl -cn "+shared+"/sub")
	if !strings.Contains(sub, "default:user:4321:rwx") {
		t.Fatalf("subdirectory did not inherit the default ACL:\n%s", sub)
	}

	// Removing every ACL leaves the mode.
	mustSh(t, 0, "setfacl -b "+secret)
	if acl := mustSh(t, 0, "getfacl -cn "+secret); strings.Contains(acl, "4321") {
		t.Fatalf("setfacl -b left %q", acl)
	}
	if fi, err := os.Stat(secret); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after setfacl -b: %v %v", fi, err)
	}
	if b, err := os.ReadFile(secret); err != nil || !bytes.Equal(b, []byte("hush")) {
		t.Fatalf("content: %q %v", b, err)
	}
}
