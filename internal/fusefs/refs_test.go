package fusefs

import (
	"fmt"
	"slices"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// TestSpecialFileRefs checks that the kernel's lookups of special files
// are counted and held in meta from the first to the last forget, and
// that nothing else is counted.
func TestSpecialFileRefs(t *testing.T) {
	f, m, _ := testFS(t, Options{})
	m.add(1, "fifo", meta.Attr{Ino: 3, Mode: syscall.S_IFIFO | 0o644, Nlink: 1}, 3)
	m.add(1, "file", meta.Attr{Ino: 4, Mode: syscall.S_IFREG | 0o644, Nlink: 1}, 4)
	m.add(1, "dev", meta.Attr{Ino: 5, Mode: syscall.S_IFCHR | 0o644, Nlink: 1}, 5)
	m.add(1, "link", meta.Attr{Ino: 6, Mode: syscall.S_IFLNK | 0o777, Nlink: 1}, 6)

	lookup := func(name string) {
		t.Helper()
		h := hdr(1)
		var out fuse.EntryOut
		if st := f.Lookup(nil, &h, name, &out); st != fuse.OK || out.NodeId == 0 {
			t.Fatalf("lookup %s: %v %d", name, st, out.NodeId)
		}
	}
	lookup("fifo")
	lookup("fifo")
	lookup("file")
	lookup("link")
	if c := m.took(); !slices.Equal(c, []string{"lookup", "hold 3", "lookup", "lookup", "lookup"}) {
		t.Fatalf("calls %v: want one hold of the fifo only", c)
	}
	if n := f.refs.count(3); n != 2 {
		t.Fatalf("fifo counted %d times, want 2", n)
	}

	// READDIRPLUS hands out lookups too.
	buf := make([]byte, 4096)
	in := fuse.ReadIn{InHeader: hdr(1), Size: uint32(len(buf))}
	if st := f.ReadDirPlus(nil, &in, fuse.NewDirEntryList(buf, 0)); st != fuse.OK {
		t.Fatal(st)
	}
	if c := m.took(); !slices.Contains(c, "hold 5") || slices.Contains(c, "hold 3") {
		t.Fatalf("readdirplus calls %v: want a hold of the device only", c)
	}
	if n := f.refs.count(3); n != 3 {
		t.Fatalf("fifo counted %d times after readdirplus, want 3", n)
	}

	// Forgets of what is not counted change nothing.
	f.Forget(4, 1)
	f.Forget(99, 1)
	f.Forget(3, 2)
	if c := m.took(); len(c) != 0 {
		t.Fatalf("partial and foreign forgets called meta: %v", c)
	}
	f.Forget(3, 1)
	f.Forget(5, 1)
	if c := m.took(); !slices.Equal(c, []string{"release", "release"}) {
		t.Fatalf("last forgets: %v", c)
	}
	if n := f.refs.len(); n != 0 {
		t.Fatalf("%d inodes still counted", n)
	}

	// A special file made by MKNOD is counted from its reply.
	mk := fuse.MknodIn{InHeader: hdr(1), Mode: syscall.S_IFSOCK | 0o777, Umask: 0o022}
	var out fuse.EntryOut
	if st := f.Mknod(nil, &mk, "sock", &out); st != fuse.OK {
		t.Fatal(st)
	}
	if c := m.took(); !slices.Equal(c, []string{"mknod umask=22", fmt.Sprintf("hold %d", out.NodeId)}) {
		t.Fatalf("mknod calls %v", c)
	}
	f.Forget(out.NodeId, 1)
	if c := m.took(); !slices.Equal(c, []string{"release"}) {
		t.Fatalf("forget of the socket: %v", c)
	}
}

// TestTmpfile checks that O_TMPFILE makes an open file through meta, with
// the umask passed on, and a handle like Create's.
func TestTmpfile(t *testing.T) {
	f, m, _ := testFS(t, Options{})
	in := fuse.CreateIn{InHeader: hdr(1), Flags: syscall.O_RDWR, Mode: 0o666, Umask: 0o027}
	var out fuse.CreateOut
	if st := f.Tmpfile(nil, &in, &out); st != fuse.OK {
		t.Fatal(st)
	}
	if c := m.took(); !slices.Equal(c, []string{"tmpfile umask=27"}) {
		t.Fatalf("calls %v", c)
	}
	h, ok := f.files.get(out.Fh)
	if !ok || h.ino != out.NodeId || !h.writable || out.OpenFlags != fuse.FOPEN_KEEP_CACHE|fuse.FOPEN_NOFLUSH {
		t.Fatalf("handle %+v %v, entry %d, open flags %#x", h, ok, out.NodeId, out.OpenFlags)
	}
	f.Release(nil, &fuse.ReleaseIn{InHeader: hdr(out.NodeId), Fh: out.Fh})
	if c := m.took(); !slices.Equal(c, []string{"release"}) {
		t.Fatalf("release calls %v", c)
	}
}
