package appliancetest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/testmount"
	"golang.org/x/sys/unix"
)

// A volume written through one mount, then served read-only, from its
// directory /sub, with root squashed: the mount sees /sub as its root,
// reads it, and every change fails with EROFS, decided by the service.
func TestReadOnlySubdirExport(t *testing.T) {
	svc := testmount.StartServe(t, testmount.ServeOptions{})
	w := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	for _, d := range []string{"sub", "sub/d", "sub/empty"} {
		if err := os.Mkdir(w.Path(d), 0o777); err != nil {
			t.Fatal(err)
		}
	}
	for path, data := range map[string]string{"sub/f": "hello", "top": "secret"} {
		if err := os.WriteFile(w.Path(path), []byte(data), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../top", w.Path("sub/out")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(w.Path("sub/f"), "user.k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	w.Close(t)
	svc.Stop(t)
	svc.RestartWith(t, "--read-only", "--export", "/sub", "--root-squash")

	r := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	if got := names(t, r.Dir); !slices.Equal(got, []string{"d", "empty", "f", "out"}) {
		t.Fatalf("root of the export: %v, want d empty f out", got)
	}
	if b, err := os.ReadFile(r.Path("f")); err != nil || string(b) != "hello" {
		t.Fatalf("read f: %q %v", b, err)
	}
	var st, up unix.Stat_t
	if err := unix.Stat(r.Path("d/.."), &up); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(r.Dir, &st); err != nil {
		t.Fatal(err)
	}
	if up.Ino != st.Ino || st.Ino != 1 {
		t.Errorf("d/.. is inode %d, the root %d; want both 1", up.Ino, st.Ino)
	}
	// The symlink resolves on the client: ../top is beside the mount
	// point, not the volume's /top.
	if tgt, err := os.Readlink(r.Path("out")); err != nil || tgt != "../top" {
		t.Errorf("readlink out: %q %v", tgt, err)
	}
	if _, err := os.ReadFile(r.Path("out")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("read through out: %v, want ENOENT (no /top beside the mount point)", err)
	}

	erofs := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s on a read-only export: %v, want EROFS", what, err)
		}
	}
	p := r.Path
	_, err := os.Create(p("new"))
	erofs("create", err)
	erofs("mkdir", os.Mkdir(p("nd"), 0o755))
	erofs("mknod", unix.Mkfifo(p("fifo"), 0o644))
	erofs("symlink", os.Symlink("f", p("sl")))
	erofs("link", os.Link(p("f"), p("hl")))
	erofs("unlink", os.Remove(p("f")))
	erofs("rmdir", unix.Rmdir(p("empty")))
	erofs("rename", os.Rename(p("f"), p("g")))
	erofs("chmod", os.Chmod(p("f"), 0o600))
	erofs("chown", os.Chown(p("f"), 1, 1))
	erofs("truncate", os.Truncate(p("f"), 0))
	erofs("utimes", unix.UtimesNano(p("f"), []unix.Timespec{{Sec: 1}, {Sec: 1}}))
	erofs("setxattr", unix.Setxattr(p("f"), "user.k", []byte("w"), 0))
	erofs("removexattr", unix.Removexattr(p("f"), "user.k"))
	_, err = os.OpenFile(p("f"), os.O_WRONLY, 0)
	erofs("open for writing", err)
	_, err = os.OpenFile(p("f"), os.O_RDWR, 0)
	erofs("open read-write", err)
	_, err = os.OpenFile(p("f"), os.O_RDONLY|os.O_TRUNC, 0)
	erofs("open with O_TRUNC", err)
	_, err = unix.Open(r.Dir, unix.O_TMPFILE|unix.O_RDWR, 0o600)
	erofs("O_TMPFILE", err)
	// access(W_OK) is the kernel's (default_permissions), and fallocate
	// needs a descriptor open for writing, which no open gives: both are
	// refused by the service at the wire level (package service's tests).

	// Nothing changed: the whole volume, mounted read-write again.
	r.Close(t)
	svc.Stop(t)
	svc.RestartWith(t)
	v := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	if got := names(t, v.Path("sub")); !slices.Equal(got, []string{"d", "empty", "f", "out"}) {
		t.Errorf("sub after the read-only export: %v", got)
	}
	if b, err := os.ReadFile(v.Path("sub/f")); err != nil || string(b) != "hello" {
		t.Errorf("sub/f after the read-only export: %q %v", b, err)
	}
}

// With root squashed, the test (root) acts as nobody on the volume:
// what it makes is nobody's, and root's private files are closed to it.
func TestRootSquashThroughMount(t *testing.T) {
	svc := testmount.StartServe(t, testmount.ServeOptions{})
	w := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	if err := os.Mkdir(w.Path("pub"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(w.Path("pub"), 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	if err := os.WriteFile(w.Path("private"), []byte("root's"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.Close(t)
	svc.Stop(t)
	svc.RestartWith(t, "--root-squash", "--anon-uid", "4321", "--anon-gid", "4322")

	r := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	if err := os.WriteFile(r.Path("pub/mine"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(r.Path("pub/mine"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 4321 || st.Gid != 4322 {
		t.Errorf("a file made by a squashed root is owned by %d:%d, want 4321:4322", st.Uid, st.Gid)
	}
	if _, err := os.ReadFile(r.Path("private")); !errors.Is(err, syscall.EACCES) {
		t.Errorf("read of root's 0600 file by a squashed root: %v, want EACCES", err)
	}
	if err := os.Mkdir(r.Path("nd"), 0o755); !errors.Is(err, syscall.EACCES) {
		t.Errorf("mkdir in root's 0755 directory by a squashed root: %v, want EACCES", err)
	}
	if err := os.Chown(r.Path("pub/mine"), 0, 0); !errors.Is(err, syscall.EPERM) {
		t.Errorf("chown by a squashed root: %v, want EPERM", err)
	}
}

// A process of uid 1000 on a client mapped to 2000 makes files the volume
// stores as 2000's and the client shows as 1000's.
func TestMappedUserThroughMount(t *testing.T) {
	svc := testmount.StartServe(t, testmount.ServeOptions{})
	w := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	if err := os.Mkdir(w.Path("pub"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(w.Path("pub"), 0o777); err != nil {
		t.Fatal(err)
	}
	w.Close(t)
	svc.Stop(t)
	svc.RestartWith(t, "--map-uid", "1000:2000", "--map-gid", "1000:2000")

	r := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	// The mount point's parent is the test's private directory.
	if err := os.Chmod(filepath.Dir(r.Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	// The child starts outside the mount: between its fork and its exec
	// it must not wait for this process's file system.
	made := r.Path("pub/made")
	cmd := exec.Command("/bin/sh", "-c", `echo x > "$1" && stat -c %u:%g "$1"`, "sh", made)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("write as uid 1000: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "1000:1000" {
		t.Errorf("a mapped user's file shown to it as %s, want 1000:1000", got)
	}
	r.Close(t)
	svc.Stop(t)
	svc.RestartWith(t)
	v := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
	var st unix.Stat_t
	if err := unix.Stat(v.Path("pub/made"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 2000 || st.Gid != 2000 {
		t.Errorf("a mapped user's file stored as %d:%d, want 2000:2000", st.Uid, st.Gid)
	}
}
