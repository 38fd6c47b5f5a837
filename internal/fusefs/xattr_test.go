package fusefs

import (
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

func TestCopyOut(t *testing.T) {
	v := []byte("value")
	if n, st := copyOut(nil, v); n != 5 || st != fuse.OK {
		t.Fatalf("size probe = %d, %v", n, st)
	}
	if n, st := copyOut(make([]byte, 4), v); n != 5 || st != fuse.ERANGE {
		t.Fatalf("small buffer = %d, %v", n, st)
	}
	dest := make([]byte, 8)
	if n, st := copyOut(dest, v); n != 5 || st != fuse.OK || string(dest[:n]) != "value" {
		t.Fatalf("copy = %d, %v, %q", n, st, dest)
	}
	if n, st := copyOut(dest, nil); n != 0 || st != fuse.OK {
		t.Fatalf("empty value = %d, %v", n, st)
	}
}

func TestXattrHandlers(t *testing.T) {
	f, m, _ := fileFixture(t, 0o644, 0)
	m.xattrs[3] = map[string][]byte{"user.b": []byte("2"), "user.a": []byte("one")}
	h := hdr(3)

	buf := make([]byte, 64)
	n, st := f.ListXAttr(nil, &h, buf)
	if st != fuse.OK || string(buf[:n]) != "user.a\x00user.b\x00" {
		t.Fatalf("list = %q, %v", buf[:n], st)
	}
	if n, st := f.ListXAttr(nil, &h, nil); st != fuse.OK || n != 14 {
		t.Fatalf("list size probe = %d, %v", n, st)
	}
	if _, st := f.ListXAttr(nil, &h, make([]byte, 13)); st != fuse.ERANGE {
		t.Fatalf("list into a small buffer: %v", st)
	}
	n, st = f.GetXAttr(nil, &h, "user.a", buf)
	if st != fuse.OK || string(buf[:n]) != "one" {
		t.Fatalf("get = %q, %v", buf[:n], st)
	}
	if _, st := f.GetXAttr(nil, &h, "user.zz", buf); st != fuse.Status(syscall.ENODATA) {
		t.Fatalf("get of a missing name: %v", st)
	}
}

func TestStatFs(t *testing.T) {
	f, _, _ := testFS(t, Options{Disk: func() (uint64, uint64, error) { return 10 << 30, 4 << 30, nil }})
	var out fuse.StatfsOut
	if st := f.StatFs(nil, ptr(hdr(1)), &out); st != fuse.OK {
		t.Fatal(st)
	}
	blocks, free := uint64(10<<30)/4096, uint64(4<<30)/4096
	if out.Bsize != 4096 || out.Frsize != 4096 || out.NameLen != 255 || out.Blocks != blocks || out.Bfree != free || out.Bavail != free {
		t.Fatalf("statfs = %+v", out)
	}
	if out.Ffree != free || out.Files != free+1 { // the fake holds one inode
		t.Fatalf("inodes: files %d free %d", out.Files, out.Ffree)
	}

	g, _, _ := testFS(t, Options{})
	if st := g.StatFs(nil, ptr(hdr(1)), &out); st != fuse.OK {
		t.Fatal(st)
	}
	if out.Blocks != 1<<50/4096 || out.Bfree != (1<<50-1<<20)/4096 {
		t.Fatalf("statfs without Disk = %+v", out)
	}

	e, _, _ := testFS(t, Options{Disk: func() (uint64, uint64, error) { return 0, 0, syscall.EACCES }})
	if st := e.StatFs(nil, ptr(hdr(1)), &out); st != fuse.EACCES {
		t.Fatalf("statfs with failing Disk: %v", st)
	}
}
