package posixtest

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Users and groups of the permission tests. None needs to exist in
// /etc/passwd: the kernel only knows numbers.
const (
	uidAlice = 1001
	uidBob   = 1002
	uidCarol = 1003
	gidStaff = 2001
	gidOther = 2002
)

var (
	alice      = user(uidAlice, uidAlice)
	aliceStaff = user(uidAlice, uidAlice, gidStaff)
	bob        = user(uidBob, uidBob)
	bobStaff   = user(uidBob, gidStaff) // staff as primary group
	carol      = user(uidCarol, uidCarol)
	carolSupp  = user(uidCarol, uidCarol, gidOther, gidStaff) // staff as a supplementary group
)

func TestPerms(t *testing.T) {
	runCases(t, []fsCase{
		{"FileModes", testPermFileModes},
		{"Exec", testPermExec},
		{"Dirs", testPermDirs},
		{"Sticky", testPermSticky},
		{"SetgidDir", testPermSetgidDir},
		{"KillSuidOnWrite", testPermKillSuid},
		{"Chmod", testPermChmod},
		{"Chown", testPermChown},
		{"Utimes", testPermUtimes},
		{"Umask", testPermUmask},
		{"TrustedXattr", testPermTrustedXattr},
	})
}

// own creates path as root with the given owner and mode (chmod after
// chown: chown may clear bits).
func own(t *testing.T, path string, uid, gid int, mode uint32) {
	t.Helper()
	must(t, "chown "+path, unix.Lchown(path, uid, gid))
	must(t, "chmod "+path, unix.Chmod(path, mode))
}

func testPermFileModes(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, []byte("secret"), 0o600)
	own(t, f, uidAlice, gidStaff, 0o640)
	rd := childOp{Op: "open", Path: f, Flags: unix.O_RDONLY}
	wr := childOp{Op: "open", Path: f, Flags: unix.O_WRONLY}
	wantAs(t, alice, rd, 0)
	wantAs(t, alice, wr, 0)
	wantAs(t, bobStaff, rd, 0)
	wantAs(t, bobStaff, wr, unix.EACCES)
	wantAs(t, bob, rd, unix.EACCES)
	wantAs(t, carolSupp, rd, 0) // a supplementary group grants access
	wantAs(t, carolSupp, wr, unix.EACCES)
	res := runAs(t, carolSupp, childOp{Op: "read", Path: f})
	if res[0].Errno != 0 || res[0].Data != "secret" {
		t.Errorf("read as supplementary group member: %q %s", res[0].Data, errnoName(res[0].Errno))
	}
	// The owner class decides for the owner, even when it grants less.
	own(t, f, uidAlice, gidStaff, 0o066)
	wantAs(t, alice, rd, unix.EACCES)
	wantAs(t, bobStaff, rd, 0)
	wantAs(t, bob, wr, 0)
	// Root reads anything.
	own(t, f, uidAlice, gidStaff, 0)
	wantAs(t, nil, rd, 0)
	// O_TRUNC needs write permission; truncate(2) too.
	own(t, f, uidAlice, gidStaff, 0o644)
	wantAs(t, bob, childOp{Op: "open", Path: f, Flags: unix.O_RDONLY | unix.O_TRUNC}, unix.EACCES)
	wantAs(t, bob, childOp{Op: "truncate", Path: f}, unix.EACCES)
	wantContent(t, f, []byte("secret"))
}

func testPermExec(t *testing.T, dir string) {
	f := filepath.Join(dir, "prog")
	writeFile(t, f, []byte("#!/bin/sh\n"), 0o700)
	own(t, f, uidAlice, gidStaff, 0o754)
	x := childOp{Op: "access", Path: f, Flags: unix.X_OK}
	wantAs(t, alice, x, 0)
	wantAs(t, bobStaff, x, 0)
	wantAs(t, carolSupp, x, 0)
	wantAs(t, bob, x, unix.EACCES)
	wantAs(t, bob, childOp{Op: "access", Path: f, Flags: unix.R_OK}, 0)
	wantAs(t, bobStaff, childOp{Op: "access", Path: f, Flags: unix.W_OK}, unix.EACCES)
	// Root may execute only if someone may.
	own(t, f, uidAlice, gidStaff, 0o644)
	wantAs(t, nil, x, unix.EACCES)
	wantAs(t, alice, x, unix.EACCES)
}

func testPermDirs(t *testing.T, dir string) {
	d := filepath.Join(dir, "d")
	mkdir(t, d, 0o755)
	writeFile(t, filepath.Join(d, "f"), []byte("x"), 0o644)
	// Alice owns f: linking a file of another user is refused for another
	// reason where fs.protected_hardlinks is set.
	own(t, filepath.Join(d, "f"), uidAlice, uidAlice, 0o644)
	inner := childOp{Op: "stat", Path: filepath.Join(d, "f")}
	list := childOp{Op: "readdir", Path: d}
	create := childOp{Op: "create", Path: filepath.Join(d, "new"), Mode: 0o644}
	// No x: nothing inside can be reached, though the names can be listed.
	own(t, d, uidAlice, gidStaff, 0o600)
	wantAs(t, alice, inner, unix.EACCES)
	wantAs(t, alice, list, 0)
	wantAs(t, alice, childOp{Op: "read", Path: filepath.Join(d, "f")}, unix.EACCES)
	// x without r: reachable, not listable.
	own(t, d, uidAlice, gidStaff, 0o300)
	wantAs(t, alice, inner, 0)
	wantAs(t, alice, list, unix.EACCES)
	wantAs(t, alice, create, 0)
	// No w: no new names, no removals, no renames.
	own(t, d, uidAlice, gidStaff, 0o550)
	wantAs(t, alice, childOp{Op: "create", Path: filepath.Join(d, "new2"), Mode: 0o644}, unix.EACCES)
	wantAs(t, alice, childOp{Op: "unlink", Path: filepath.Join(d, "new")}, unix.EACCES)
	wantAs(t, alice, childOp{Op: "mkdir", Path: filepath.Join(d, "sub"), Mode: 0o755}, unix.EACCES)
	wantAs(t, alice, childOp{Op: "rename", Path: filepath.Join(d, "f"), Path2: filepath.Join(d, "g")}, unix.EACCES)
	wantAs(t, alice, childOp{Op: "symlink", Path: filepath.Join(d, "s"), Path2: "f"}, unix.EACCES)
	wantAs(t, alice, childOp{Op: "link", Path: filepath.Join(d, "f"), Path2: filepath.Join(d, "l")}, unix.EACCES)
	// Group and other classes of the directory.
	own(t, d, uidAlice, gidStaff, 0o730)
	wantAs(t, bobStaff, childOp{Op: "create", Path: filepath.Join(d, "bobs"), Mode: 0o644}, 0)
	wantAs(t, bob, inner, unix.EACCES)
	wantAs(t, carolSupp, inner, 0)
	// Search permission is needed on every directory of a path.
	mkdir(t, filepath.Join(dir, "outer"), 0o700)
	mkdir(t, filepath.Join(dir, "outer", "open"), 0o777)
	wantAs(t, bob, childOp{Op: "stat", Path: filepath.Join(dir, "outer", "open")}, unix.EACCES)
	// Moving a directory to another parent needs write on the directory
	// itself (its ".." changes).
	own(t, filepath.Join(dir, "outer"), uidAlice, uidAlice, 0o777)
	mkdir(t, filepath.Join(dir, "dst"), 0o777)
	own(t, filepath.Join(dir, "outer", "open"), uidBob, uidBob, 0o555)
	wantAs(t, alice, childOp{Op: "rename", Path: filepath.Join(dir, "outer", "open"), Path2: filepath.Join(dir, "dst", "open")}, unix.EACCES)
}

// testPermSticky: in a sticky, world-writable directory only the file's
// owner, the directory's owner and root may remove or rename a file.
func testPermSticky(t *testing.T, dir string) {
	d := filepath.Join(dir, "tmp")
	mkdir(t, d, 0o777)
	own(t, d, uidCarol, uidCarol, 0o1777)
	wantMode(t, "sticky dir", lstat(t, d), unix.S_IFDIR|0o1777)
	mine := filepath.Join(d, "alices")
	wantAs(t, alice, childOp{Op: "create", Path: mine, Mode: 0o666}, 0)
	wantAs(t, bob, childOp{Op: "create", Path: filepath.Join(d, "bobs"), Mode: 0o666}, 0)
	wantAs(t, bob, childOp{Op: "unlink", Path: mine}, unix.EPERM)
	wantAs(t, bob, childOp{Op: "rename", Path: mine, Path2: filepath.Join(d, "stolen")}, unix.EPERM)
	wantAs(t, bob, childOp{Op: "rename", Path: filepath.Join(d, "bobs"), Path2: mine}, unix.EPERM)
	wantAs(t, bob, childOp{Op: "rename", Path: filepath.Join(d, "bobs"), Path2: mine, Flags: unix.RENAME_EXCHANGE}, unix.EPERM)
	// Writing the file itself is still governed by its mode.
	wantAs(t, bob, childOp{Op: "write", Path: mine, Data: "bob was here"}, 0)
	wantNames(t, d, "alices", "bobs")
	// The owner of the file may, and so may the owner of the directory.
	wantAs(t, alice, childOp{Op: "rename", Path: mine, Path2: filepath.Join(d, "renamed")}, 0)
	wantAs(t, carol, childOp{Op: "unlink", Path: filepath.Join(d, "bobs")}, 0)
	wantAs(t, alice, childOp{Op: "unlink", Path: filepath.Join(d, "renamed")}, 0)
	// Sticky subdirectories: bob may not remove alice's empty directory.
	wantAs(t, alice, childOp{Op: "mkdir", Path: filepath.Join(d, "adir"), Mode: 0o777}, 0)
	wantAs(t, bob, childOp{Op: "rmdir", Path: filepath.Join(d, "adir")}, unix.EPERM)
	wantNames(t, d, "adir")
}

// testPermSetgidDir: new entries of a setgid directory take its group, and
// new subdirectories the setgid bit.
func testPermSetgidDir(t *testing.T, dir string) {
	d := filepath.Join(dir, "shared")
	mkdir(t, d, 0o777)
	own(t, d, 0, gidStaff, 0o2777)
	f := filepath.Join(d, "rootfile")
	writeFile(t, f, nil, 0o644)
	st := lstat(t, f)
	if st.Gid != gidStaff || st.Mode != unix.S_IFREG|0o644 {
		t.Errorf("file in setgid dir: gid %d mode %#o, want gid %d mode 0100644", st.Gid, st.Mode, gidStaff)
	}
	sub := filepath.Join(d, "sub")
	mkdir(t, sub, 0o755)
	st = lstat(t, sub)
	if st.Gid != gidStaff || st.Mode != unix.S_IFDIR|0o2755 {
		t.Errorf("subdir of setgid dir: gid %d mode %#o, want gid %d mode 042755", st.Gid, st.Mode, gidStaff)
	}
	// A user outside the group: the group is inherited, a requested setgid
	// bit on a group-executable file is dropped.
	af := filepath.Join(d, "alices")
	wantAs(t, alice, childOp{Op: "create", Path: af, Mode: 0o2755}, 0)
	st = lstat(t, af)
	if st.Uid != uidAlice || st.Gid != gidStaff || st.Mode != unix.S_IFREG|0o755 {
		t.Errorf("alice's file in setgid dir: %d:%d mode %#o, want %d:%d 0100755", st.Uid, st.Gid, st.Mode, uidAlice, gidStaff)
	}
	wantAs(t, alice, childOp{Op: "mkdir", Path: filepath.Join(sub, "deeper"), Mode: 0o777}, unix.EACCES)
	wantAs(t, alice, childOp{Op: "mkdir", Path: filepath.Join(d, "adir"), Mode: 0o750}, 0)
	st = lstat(t, filepath.Join(d, "adir"))
	if st.Uid != uidAlice || st.Gid != gidStaff || st.Mode != unix.S_IFDIR|0o2750 {
		t.Errorf("alice's dir in setgid dir: %d:%d mode %#o", st.Uid, st.Gid, st.Mode)
	}
	// Symlinks and other nodes take the group too.
	must(t, "symlink", unix.Symlink("x", filepath.Join(d, "s")))
	if st := lstat(t, filepath.Join(d, "s")); st.Gid != gidStaff {
		t.Errorf("symlink in setgid dir: gid %d", st.Gid)
	}
	// Outside it, the creator's group.
	wantAs(t, alice, childOp{Op: "mkdir", Path: filepath.Join(dir, "plain"), Mode: 0o755}, unix.EACCES)
	must(t, "chmod case dir", unix.Chmod(dir, 0o777))
	wantAs(t, alice, childOp{Op: "mkdir", Path: filepath.Join(dir, "plain"), Mode: 0o755}, 0)
	if st := lstat(t, filepath.Join(dir, "plain")); st.Gid != uidAlice || st.Mode != unix.S_IFDIR|0o755 {
		t.Errorf("alice's dir outside: gid %d mode %#o", st.Gid, st.Mode)
	}
}

// testPermKillSuid: a write or truncate by a user other than root clears
// suid, and sgid when the group may execute; root's writes do not.
func testPermKillSuid(t *testing.T, dir string) {
	cases := []struct {
		name     string
		uid, gid int
		mode     uint32
		who      *cred
		op       childOp
		want     uint32
	}{
		{"other writes suid+sgid", 0, 0, 0o6777, alice, childOp{Op: "write", Data: "x"}, 0o777},
		{"owner writes suid", uidAlice, uidAlice, 0o4755, alice, childOp{Op: "write", Data: "x"}, 0o755},
		{"sgid without group exec, writer in group", 0, gidStaff, 0o2666, aliceStaff, childOp{Op: "write", Data: "x"}, 0o2666},
		{"sgid without group exec, writer outside group", 0, gidStaff, 0o2666, alice, childOp{Op: "write", Data: "x"}, 0o666},
		{"other truncates", 0, 0, 0o6777, alice, childOp{Op: "truncate", Off: 1}, 0o777},
		{"root writes", uidAlice, uidAlice, 0o6777, nil, childOp{Op: "write", Data: "x"}, 0o6777},
	}
	for i, c := range cases {
		f := filepath.Join(dir, string(rune('a'+i)))
		writeFile(t, f, []byte("content"), 0o600)
		own(t, f, c.uid, c.gid, c.mode)
		c.op.Path = f
		wantAs(t, c.who, c.op, 0)
		if st := lstat(t, f); st.Mode != unix.S_IFREG|c.want {
			t.Errorf("%s: mode %#o, want %#o", c.name, st.Mode&0o7777, c.want)
		}
	}
	// A write by root to a file another user owns leaves both bits, a chown
	// by root clears them (testChown), and so does a chown by the owner.
	f := filepath.Join(dir, "owned")
	writeFile(t, f, nil, 0o600)
	own(t, f, uidAlice, gidStaff, 0o6750)
	wantAs(t, aliceStaff, childOp{Op: "chown", Path: f, UID: -1, GID: uidAlice}, 0)
	if st := lstat(t, f); st.Mode != unix.S_IFREG|0o750 || st.Gid != uidAlice {
		t.Errorf("after owner's chgrp: mode %#o gid %d, want 0750 gid %d", st.Mode&0o7777, st.Gid, uidAlice)
	}
}

func testPermChmod(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, nil, 0o644)
	own(t, f, uidAlice, gidStaff, 0o644)
	wantAs(t, bob, childOp{Op: "chmod", Path: f, Mode: 0o777}, unix.EPERM)
	wantAs(t, bobStaff, childOp{Op: "chmod", Path: f, Mode: 0o777}, unix.EPERM)
	wantMode(t, "after refused chmod", lstat(t, f), unix.S_IFREG|0o644)
	wantAs(t, alice, childOp{Op: "chmod", Path: f, Mode: 0o4700}, 0)
	wantMode(t, "after owner's chmod", lstat(t, f), unix.S_IFREG|0o4700)
	// The owner outside the file's group cannot set sgid: it is dropped.
	wantAs(t, alice, childOp{Op: "chmod", Path: f, Mode: 0o2755}, 0)
	wantMode(t, "owner sets sgid outside the group", lstat(t, f), unix.S_IFREG|0o755)
	wantAs(t, aliceStaff, childOp{Op: "chmod", Path: f, Mode: 0o2755}, 0)
	wantMode(t, "owner sets sgid inside the group", lstat(t, f), unix.S_IFREG|0o2755)
	// Write permission on the file does not allow chmod.
	own(t, f, uidAlice, gidStaff, 0o666)
	wantAs(t, bob, childOp{Op: "chmod", Path: f, Mode: 0o600}, unix.EPERM)
}

func testPermChown(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, nil, 0o644)
	own(t, f, uidAlice, uidAlice, 0o644)
	wantAs(t, alice, childOp{Op: "chown", Path: f, UID: uidBob, GID: -1}, unix.EPERM)
	wantAs(t, bob, childOp{Op: "chown", Path: f, UID: uidBob, GID: -1}, unix.EPERM)
	wantAs(t, bob, childOp{Op: "chown", Path: f, UID: -1, GID: uidBob}, unix.EPERM)
	wantAs(t, alice, childOp{Op: "chown", Path: f, UID: -1, GID: gidStaff}, unix.EPERM)
	wantAs(t, aliceStaff, childOp{Op: "chown", Path: f, UID: -1, GID: gidStaff}, 0)
	wantAs(t, aliceStaff, childOp{Op: "chown", Path: f, UID: uidAlice, GID: -1}, 0) // to oneself: allowed
	st := lstat(t, f)
	if st.Uid != uidAlice || st.Gid != gidStaff {
		t.Errorf("after chowns: %d:%d, want %d:%d", st.Uid, st.Gid, uidAlice, gidStaff)
	}
}

func testPermUtimes(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, nil, 0o644)
	own(t, f, uidAlice, gidStaff, 0o664)
	// Anyone who may write may set the times to now; only the owner may
	// set them to something else.
	wantAs(t, bobStaff, childOp{Op: "utimes-now", Path: f}, 0)
	wantAs(t, bobStaff, childOp{Op: "utimes", Path: f, Off: 1e18}, unix.EPERM)
	wantAs(t, bob, childOp{Op: "utimes-now", Path: f}, unix.EACCES)
	wantAs(t, alice, childOp{Op: "utimes", Path: f, Off: 1e18}, 0)
	if st := lstat(t, f); st.Mtim.Nano() != 1e18 {
		t.Errorf("owner's utimes: mtime %v", st.Mtim)
	}
}

func testPermUmask(t *testing.T, dir string) {
	must(t, "chmod case dir", unix.Chmod(dir, 0o777))
	wantAs(t, alice, childOp{Op: "umask-create", Path: filepath.Join(dir, "f"), Flags: 0o027, Mode: 0o666}, 0)
	wantMode(t, "file under umask 027", lstat(t, filepath.Join(dir, "f")), unix.S_IFREG|0o640)
	wantAs(t, alice, childOp{Op: "umask-mkdir", Path: filepath.Join(dir, "d"), Flags: 0o077, Mode: 0o777}, 0)
	st := lstat(t, filepath.Join(dir, "d"))
	wantMode(t, "dir under umask 077", st, unix.S_IFDIR|0o700)
	if st.Uid != uidAlice || st.Gid != uidAlice {
		t.Errorf("alice's dir: %d:%d", st.Uid, st.Gid)
	}
}

// testPermTrustedXattr: trusted.* is root's; user.* follows the file mode.
func testPermTrustedXattr(t *testing.T, dir string) {
	f := filepath.Join(dir, "f")
	writeFile(t, f, nil, 0o644)
	own(t, f, uidAlice, gidStaff, 0o644)
	must(t, "set trusted", unix.Setxattr(f, "trusted.t", []byte("root"), 0))
	wantAs(t, alice, childOp{Op: "setxattr", Path: f, Path2: "trusted.x", Data: "v"}, unix.EPERM)
	res := runAs(t, alice, childOp{Op: "getxattr", Path: f, Path2: "trusted.t"})
	if res[0].Errno != unix.ENODATA && res[0].Errno != unix.EPERM {
		t.Errorf("alice reads trusted.t: %q %s, want ENODATA (hidden)", res[0].Data, errnoName(res[0].Errno))
	}
	wantAs(t, alice, childOp{Op: "setxattr", Path: f, Path2: "user.a", Data: "v"}, 0)
	wantAs(t, bob, childOp{Op: "setxattr", Path: f, Path2: "user.b", Data: "v"}, unix.EACCES)
	res = runAs(t, bob, childOp{Op: "getxattr", Path: f, Path2: "user.a"})
	if res[0].Errno != 0 || res[0].Data != "v" {
		t.Errorf("bob reads user.a: %q %s", res[0].Data, errnoName(res[0].Errno))
	}
}
