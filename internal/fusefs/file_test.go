package fusefs

import (
	"fmt"
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fileFixture is a regular file, inode 3, in the root.
func fileFixture(t *testing.T, mode uint32, size uint64) (*fileSystem, *fakeMeta, *fakeData) {
	f, m, d := testFS(t, Options{})
	m.add(1, "f", meta.Attr{Ino: 3, Mode: syscall.S_IFREG | mode, Size: size, Nlink: 1}, 3)
	return f, m, d
}

func (d *fakeData) took() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := fmt.Sprint(d.calls)
	d.calls = nil
	return s
}

func TestOpenFlagsAndRelease(t *testing.T) {
	f, m, d := fileFixture(t, 0o644, 10)
	open := func(flags uint32) fuse.OpenOut {
		t.Helper()
		var out fuse.OpenOut
		in := fuse.OpenIn{InHeader: hdr(3), Flags: flags}
		if st := f.Open(nil, &in, &out); st != fuse.OK {
			t.Fatalf("open %#x: %v", flags, st)
		}
		return out
	}

	ro := open(syscall.O_RDONLY)
	if ro.OpenFlags != fuse.FOPEN_KEEP_CACHE|fuse.FOPEN_NOFLUSH {
		t.Fatalf("read-only open flags %#x", ro.OpenFlags)
	}
	rw := open(syscall.O_RDWR)
	if rw.OpenFlags != fuse.FOPEN_KEEP_CACHE|fuse.FOPEN_NOFLUSH || rw.Fh == ro.Fh {
		t.Fatalf("read-write open flags %#x fh %d (read-only fh %d)", rw.OpenFlags, rw.Fh, ro.Fh)
	}
	if s := d.took(); s != "[]" {
		t.Fatalf("plain opens touched the data path: %s", s)
	}

	// Flush commits only for writable handles.
	f.Flush(nil, &fuse.FlushIn{InHeader: hdr(3), Fh: ro.Fh})
	if s := d.took(); s != "[]" {
		t.Fatalf("flush of a read-only handle: %s", s)
	}
	if st := f.Flush(nil, &fuse.FlushIn{InHeader: hdr(3), Fh: rw.Fh}); st != fuse.OK {
		t.Fatal(st)
	}
	if s := d.took(); s != "[flush 3]" {
		t.Fatalf("flush of a writable handle: %s", s)
	}
	d.errs["flush"] = syscall.ENOSPC
	if st := f.Flush(nil, &fuse.FlushIn{InHeader: hdr(3), Fh: rw.Fh}); st != fuse.Status(syscall.ENOSPC) {
		t.Fatalf("failed flush: %v", st)
	}
	delete(d.errs, "flush")
	d.took()

	m.calls = nil
	f.Release(nil, &fuse.ReleaseIn{InHeader: hdr(3), Fh: rw.Fh})
	f.Release(nil, &fuse.ReleaseIn{InHeader: hdr(3), Fh: ro.Fh})
	f.Release(nil, &fuse.ReleaseIn{InHeader: hdr(3), Fh: ro.Fh}) // unknown now: logged, nothing called
	if s := d.took(); s != "[flush 3]" {
		t.Fatalf("release: data calls %s", s)
	}
	if s := fmt.Sprint(m.calls); s != "[release release]" {
		t.Fatalf("release: meta calls %s", s)
	}
	if n := f.files.count(); n != 0 {
		t.Fatalf("%d handles left", n)
	}
}

func TestOpenTrunc(t *testing.T) {
	f, m, d := fileFixture(t, 0o6755, 10)
	m.calls = nil
	var out fuse.OpenOut
	in := fuse.OpenIn{InHeader: hdr(3), Flags: syscall.O_WRONLY | syscall.O_TRUNC, Mode: fuse.OPEN_KILL_SUIDGID}
	if st := f.Open(nil, &in, &out); st != fuse.OK {
		t.Fatal(st)
	}
	// Buffered writes are committed before meta truncates, then dropped.
	if s := d.took(); s != "[flush 3 truncate@0 3]" {
		t.Fatalf("data calls %s", s)
	}
	if s := fmt.Sprint(m.calls); s != "[open setattr]" || m.setAttr[0].Valid != meta.SetKillSUID {
		t.Fatalf("meta calls %s %+v", s, m.setAttr)
	}
	if a := m.attrs[3]; a.Size != 0 || a.Mode&(syscall.S_ISUID|syscall.S_ISGID) != 0 {
		t.Fatalf("attr after truncating open: %+v", a)
	}

	// Without suid/sgid bits there is nothing to clear.
	m.calls = nil
	if st := f.Open(nil, &in, &out); st != fuse.OK {
		t.Fatal(st)
	}
	if s := fmt.Sprint(m.calls); s != "[open]" {
		t.Fatalf("meta calls %s", s)
	}
}

func TestWriteKillFlag(t *testing.T) {
	for _, kill := range []bool{false, true} {
		f, m, d := fileFixture(t, 0o4755, 0)
		m.calls = nil
		in := fuse.WriteIn{InHeader: hdr(3), Offset: 4}
		if kill {
			in.WriteFlags = fuse.WRITE_KILL_SUIDGID
		}
		n, st := f.Write(nil, &in, []byte("hello"))
		if st != fuse.OK || n != 5 {
			t.Fatalf("write = %d, %v", n, st)
		}
		// The flag goes to the commit; meta is not asked per write.
		if len(d.kill) != 1 || d.kill[0] != kill || len(m.calls) != 0 {
			t.Fatalf("kill %v: data path flags %v, meta calls %v", kill, d.kill, m.calls)
		}
	}
}

func TestWriteBounds(t *testing.T) {
	f, _, d := fileFixture(t, 0o644, 0)
	in := fuse.WriteIn{InHeader: hdr(3), Offset: math.MaxInt64 - 2}
	if _, st := f.Write(nil, &in, []byte("hello")); st != fuse.Status(syscall.EFBIG) {
		t.Fatalf("write past the largest offset: %v", st)
	}
	in.Offset = 1 << 63
	if _, st := f.Writev(nil, &in, [][]byte{[]byte("a"), []byte("b")}); st != fuse.Status(syscall.EFBIG) {
		t.Fatalf("writev past the largest offset: %v", st)
	}
	if s := d.took(); s != "[]" {
		t.Fatalf("data calls %s", s)
	}
	in.Offset = 0
	if n, st := f.Writev(nil, &in, [][]byte{[]byte("ab"), []byte("cde")}); st != fuse.OK || n != 5 {
		t.Fatalf("writev = %d, %v", n, st)
	}
}

func TestReadUsesDirtySize(t *testing.T) {
	f, _, d := fileFixture(t, 0o644, 10)
	read := func(off uint64, size uint32) []byte {
		t.Helper()
		in := fuse.ReadIn{InHeader: hdr(3), Offset: off, Size: size}
		rr, st := f.Read(nil, &in, make([]byte, size))
		if st != fuse.OK {
			t.Fatalf("read at %d: %v", off, st)
		}
		b, _ := rr.Bytes(nil)
		return b
	}
	if b := read(8, 100); len(b) != 2 || b[0] != 8 {
		t.Fatalf("read at 8 of a 10-byte file: %v", b)
	}
	if b := read(10, 100); len(b) != 0 {
		t.Fatalf("read at end of file: %v", b)
	}
	d.dirty[3] = [2]int64{20, 1}
	d.took()
	if b := read(10, 100); len(b) != 10 || b[9] != 19 {
		t.Fatalf("read past committed size with buffered writes: %v", b)
	}
	if s := d.took(); s != "[read 3]" {
		t.Fatalf("data calls %s", s)
	}
}

func TestSetAttrTruncateOrder(t *testing.T) {
	f, m, d := fileFixture(t, 0o644, 100)
	m.calls = nil
	in := fuse.SetAttrIn{SetAttrInCommon: fuse.SetAttrInCommon{InHeader: hdr(3), Valid: fuse.FATTR_SIZE | fuse.FATTR_FH, Size: 7}}
	var out fuse.AttrOut
	if st := f.SetAttr(nil, &in, &out); st != fuse.OK {
		t.Fatal(st)
	}
	if s := d.took(); s != "[flush 3 truncate@7 3 invalidate 3]" {
		t.Fatalf("data calls %s", s)
	}
	if out.Size != 7 || m.setAttr[0].Valid != meta.SetSize|meta.SetFromHandle || m.setAttr[0].Size != 7 {
		t.Fatalf("attr %+v, meta got %+v", out.Attr, m.setAttr)
	}
	if out.Timeout() != time.Hour {
		t.Fatalf("attr timeout %v", out.Timeout())
	}

	// A failed commit stops the truncation.
	d.errs["flush"] = syscall.EIO
	if st := f.SetAttr(nil, &in, &out); st != fuse.EIO {
		t.Fatalf("setattr with failing flush: %v", st)
	}
	if len(m.setAttr) != 1 {
		t.Fatalf("meta truncated after a failed flush")
	}
}

func TestSetAttrTranslation(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   fuse.SetAttrInCommon
		want meta.SetAttrIn
	}{
		{"chmod", fuse.SetAttrInCommon{Valid: fuse.FATTR_MODE, Mode: syscall.S_IFREG | 0o4755},
			meta.SetAttrIn{Valid: meta.SetMode, Mode: 0o4755}},
		{"chown", fuse.SetAttrInCommon{Valid: fuse.FATTR_UID | fuse.FATTR_GID, Owner: fuse.Owner{Uid: 5, Gid: 6}},
			meta.SetAttrIn{Valid: meta.SetUID | meta.SetGID, UID: 5, GID: 6}},
		{"truncate by path", fuse.SetAttrInCommon{Valid: fuse.FATTR_SIZE, Size: 9},
			meta.SetAttrIn{Valid: meta.SetSize, Size: 9}},
		{"utimes now", fuse.SetAttrInCommon{Valid: fuse.FATTR_ATIME | fuse.FATTR_ATIME_NOW | fuse.FATTR_MTIME | fuse.FATTR_MTIME_NOW, Atime: 99},
			meta.SetAttrIn{Valid: meta.SetAtimeNow | meta.SetMtimeNow}},
		{"utimes", fuse.SetAttrInCommon{Valid: fuse.FATTR_ATIME | fuse.FATTR_MTIME, Atime: 1, Atimensec: 2, Mtime: uint64(1<<64 - 1), Mtimensec: 500_000_000},
			meta.SetAttrIn{Valid: meta.SetAtime | meta.SetMtime, Atime: 1_000_000_002, Mtime: -500_000_000}},
		{"ctime", fuse.SetAttrInCommon{Valid: fuse.FATTR_CTIME, Ctime: 3},
			meta.SetAttrIn{Valid: meta.SetCtime, Ctime: 3_000_000_000}},
		{"kill suid", fuse.SetAttrInCommon{Valid: fuse.FATTR_SIZE | fuse.FATTR_KILL_SUIDGID | fuse.FATTR_LOCKOWNER},
			meta.SetAttrIn{Valid: meta.SetSize | meta.SetKillSUID}},
		{"chown -1 -1", fuse.SetAttrInCommon{Valid: 0},
			meta.SetAttrIn{Valid: meta.SetKillSUID}},
		{"nothing through a handle", fuse.SetAttrInCommon{Valid: fuse.FATTR_FH | fuse.FATTR_LOCKOWNER},
			meta.SetAttrIn{Valid: meta.SetKillSUID}},
	} {
		in := fuse.SetAttrIn{SetAttrInCommon: tc.in}
		if got := setAttrIn(&in); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestFsyncAndFallocate(t *testing.T) {
	f, m, d := fileFixture(t, 0o644, 10)
	m.calls = nil
	if st := f.Fsync(nil, &fuse.FsyncIn{InHeader: hdr(3)}); st != fuse.OK {
		t.Fatal(st)
	}
	if s := d.took(); s != "[flush 3 syncobjects 0]" || fmt.Sprint(m.calls) != "[sync]" {
		t.Fatalf("fsync: data %s meta %v", s, m.calls)
	}
	m.calls = nil
	if st := f.Fallocate(nil, &fuse.FallocateIn{InHeader: hdr(3), Offset: 0, Length: 4096}); st != fuse.OK {
		t.Fatal(st)
	}
	if s := d.took(); s != "[flush 3 invalidate 3]" || fmt.Sprint(m.calls) != "[fallocate]" {
		t.Fatalf("fallocate: data %s meta %v", s, m.calls)
	}
	m.errs["fallocate"] = syscall.EOPNOTSUPP
	if st := f.Fallocate(nil, &fuse.FallocateIn{InHeader: hdr(3), Mode: 0x40}); st != fuse.Status(syscall.EOPNOTSUPP) {
		t.Fatalf("unsupported mode: %v", st)
	}
}

func TestLookup(t *testing.T) {
	f, _, _ := fileFixture(t, 0o644, 10)
	var out fuse.EntryOut
	if st := f.Lookup(nil, ptr(hdr(1)), "f", &out); st != fuse.OK || out.NodeId != 3 || out.EntryTimeout() != time.Hour {
		t.Fatalf("lookup: %v %+v", st, out)
	}
	out = fuse.EntryOut{NodeId: 99}
	if st := f.Lookup(nil, ptr(hdr(1)), "missing", &out); st != fuse.OK || out.NodeId != 0 || out.EntryTimeout() != time.Hour {
		t.Fatalf("negative lookup: %v %+v", st, out)
	}
	g, _, _ := testFS(t, Options{NegativeTimeout: -1})
	if st := g.Lookup(nil, ptr(hdr(1)), "missing", &out); st != fuse.ENOENT {
		t.Fatalf("negative lookup without caching: %v", st)
	}
}

func ptr[T any](v T) *T { return &v }
