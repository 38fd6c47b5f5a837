package fusefs

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirFixture is directory 2 (in the root) holding n files with names of
// varying length, cookies 10, 20, ...
func dirFixture(t *testing.T, n int) (*fileSystem, *fakeMeta) {
	f, m, _ := testFS(t, Options{EntryTimeout: 7 * time.Second, AttrTimeout: 8 * time.Second})
	m.add(1, "d", meta.Attr{Ino: 2, Mode: syscall.S_IFDIR | 0o755, Nlink: 2}, 5)
	for i := range n {
		name := fmt.Sprintf("f%d-%s", i, strings.Repeat("x", i%40))
		m.add(2, name, meta.Attr{Ino: uint64(100 + i), Mode: syscall.S_IFREG | 0o644, Size: uint64(i), Nlink: 1}, uint64(10*(i+1)))
	}
	return f, m
}

type listed struct {
	names []string
	inos  []uint64
	offs  []uint64
	outs  []fuse.EntryOut
	calls int
}

// list reads directory ino to the end as the kernel does: buffers of size
// bytes, each request starting at the offset of the last entry received.
func list(t *testing.T, f *fileSystem, ino uint64, start uint64, size int, plus bool) listed {
	t.Helper()
	var l listed
	off := start
	for range 1000 {
		buf := make([]byte, size)
		out := fuse.NewDirEntryList(buf, off)
		in := fuse.ReadIn{InHeader: hdr(ino), Offset: off, Size: uint32(size)}
		var st fuse.Status
		if plus {
			st = f.ReadDirPlus(nil, &in, out)
		} else {
			st = f.ReadDir(nil, &in, out)
		}
		if st != fuse.OK {
			t.Fatalf("readdir at %d: %v", off, st)
		}
		l.calls++
		var ents []fuse.DirEntry
		var err error
		if plus {
			var outs []fuse.EntryOut
			ents, outs, err = fuse.ParseDirLookupEntries(out.Bytes())
			l.outs = append(l.outs, outs...)
		} else {
			ents, err = fuse.ParseDirEntries(out.Bytes())
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			return l
		}
		for _, e := range ents {
			l.names = append(l.names, e.Name)
			l.inos = append(l.inos, e.Ino)
			l.offs = append(l.offs, e.Off)
		}
		off = ents[len(ents)-1].Off
	}
	t.Fatal("listing did not end")
	return l
}

func TestReadDirResumes(t *testing.T) {
	const n = 57
	for _, plus := range []bool{false, true} {
		for _, size := range []int{200, 512, 4096, 65536} {
			t.Run(fmt.Sprintf("plus=%v/size=%d", plus, size), func(t *testing.T) {
				f, _ := dirFixture(t, n)
				l := list(t, f, 2, 0, size, plus)
				if len(l.names) != n+2 {
					t.Fatalf("listed %d names, want %d: %v", len(l.names), n+2, l.names)
				}
				if l.names[0] != "." || l.inos[0] != 2 || l.offs[0] != 1 {
					t.Fatalf("first entry %q ino %d off %d", l.names[0], l.inos[0], l.offs[0])
				}
				if l.names[1] != ".." || l.inos[1] != 1 || l.offs[1] != 2 {
					t.Fatalf("second entry %q ino %d off %d", l.names[1], l.inos[1], l.offs[1])
				}
				seen := map[string]bool{}
				for i := 2; i < len(l.names); i++ {
					name := l.names[i]
					if seen[name] {
						t.Fatalf("%q listed twice", name)
					}
					seen[name] = true
					if want := uint64(10 * (i - 1)); l.offs[i] != want {
						t.Fatalf("%q has offset %d, want its cookie %d", name, l.offs[i], want)
					}
					if want := uint64(100 + i - 2); l.inos[i] != want {
						t.Fatalf("%q has ino %d, want %d", name, l.inos[i], want)
					}
				}
				if !plus {
					return
				}
				for i, o := range l.outs {
					if i < 2 {
						if o.NodeId != 0 {
							t.Fatalf("%q carries node id %d", l.names[i], o.NodeId)
						}
						continue
					}
					if o.NodeId != l.inos[i] || o.Attr.Ino != l.inos[i] || o.Size != uint64(i-2) || o.Mode != syscall.S_IFREG|0o644 {
						t.Fatalf("%q: entry %+v", l.names[i], o)
					}
					if o.EntryTimeout() != 7*time.Second || o.AttrTimeout() != 8*time.Second {
						t.Fatalf("%q: timeouts %v %v", l.names[i], o.EntryTimeout(), o.AttrTimeout())
					}
				}
			})
		}
	}
}

func TestReadDirRootAndOffsets(t *testing.T) {
	f, _ := dirFixture(t, 3)
	l := list(t, f, 1, 0, 4096, false)
	if fmt.Sprint(l.names) != "[. .. d]" || l.inos[1] != 1 {
		t.Fatalf("root listing %v inos %v", l.names, l.inos)
	}
	// Resuming after "." starts at ".."; after ".." at the first entry;
	// after an entry's cookie at the next.
	for _, tc := range []struct {
		off  uint64
		want string
	}{
		{1, "[.. f0- f1-x f2-xx]"},
		{2, "[f0- f1-x f2-xx]"},
		{10, "[f1-x f2-xx]"},
		{15, "[f1-x f2-xx]"},
		{30, "[]"},
	} {
		if l := list(t, f, 2, tc.off, 4096, false); fmt.Sprint(l.names) != tc.want {
			t.Errorf("from offset %d: %v, want %v", tc.off, l.names, tc.want)
		}
	}
}

func TestReadDirErrors(t *testing.T) {
	f, m := dirFixture(t, 1)
	out := fuse.NewDirEntryList(make([]byte, 4096), 0)
	in := fuse.ReadIn{InHeader: hdr(100), Size: 4096}
	if st := f.ReadDir(nil, &in, out); st != fuse.Status(syscall.ENOTDIR) {
		t.Fatalf("readdir of a file: %v", st)
	}

	// A cookie that goes backwards is a bug in meta: EIO, not a loop.
	m.dirents[2] = append(m.dirents[2], meta.DirEntry{Name: "bad", Ino: 5, Cookie: 1})
	out = fuse.NewDirEntryList(make([]byte, 4096), 0)
	in = fuse.ReadIn{InHeader: hdr(2), Size: 4096}
	if st := f.ReadDir(nil, &in, out); st != fuse.EIO {
		t.Fatalf("readdir with a bad cookie: %v", st)
	}
}

func TestOpenDir(t *testing.T) {
	f, m := dirFixture(t, 0)
	m.calls = nil
	var out fuse.OpenOut
	in := fuse.OpenIn{InHeader: hdr(2), Flags: syscall.O_RDONLY | syscall.O_DIRECTORY}
	if st := f.OpenDir(nil, &in, &out); st != fuse.OK || out.OpenFlags != fuse.FOPEN_CACHE_DIR|fuse.FOPEN_KEEP_CACHE {
		t.Fatalf("opendir: %v flags %#x", st, out.OpenFlags)
	}
	f.ReleaseDir(&fuse.ReleaseIn{InHeader: hdr(2)})
	// meta counts the open, so a removed directory lives until released.
	if fmt.Sprint(m.calls) != "[open release]" {
		t.Fatalf("meta calls %v", m.calls)
	}
	m.errs["open"] = syscall.EACCES
	if st := f.OpenDir(nil, &in, &out); st != fuse.EACCES {
		t.Fatalf("opendir refused by meta: %v", st)
	}
}
