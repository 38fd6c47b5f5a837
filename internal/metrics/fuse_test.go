package metrics

import (
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// slowFS answers every LOOKUP after a pause, with ENOENT.
type slowFS struct {
	fuse.RawFileSystem
	pause time.Duration
}

func (s slowFS) Lookup(<-chan struct{}, *fuse.InHeader, string, *fuse.EntryOut) fuse.Status {
	time.Sleep(s.pause)
	return fuse.ENOENT
}

// The decorator passes requests and their statuses through, times each
// one from before it runs, and counts what it does not override (the
// default ENOSYS) under its op.
func TestFUSEDecorator(t *testing.T) {
	ops := NewFUSEOps()
	const pause = 3 * time.Millisecond
	fs := FUSE(ops)(slowFS{fuse.NewDefaultRawFileSystem(), pause})
	if st := fs.Lookup(nil, &fuse.InHeader{}, "x", &fuse.EntryOut{}); st != fuse.ENOENT {
		t.Fatalf("Lookup = %v, want ENOENT", st)
	}
	if st := fs.Mkdir(nil, &fuse.MkdirIn{}, "x", &fuse.EntryOut{}); st != fuse.ENOSYS {
		t.Fatalf("Mkdir = %v, want the default ENOSYS", st)
	}
	if _, st := fs.Writev(nil, &fuse.WriteIn{}, nil); st != fuse.ENOSYS {
		t.Fatalf("Writev = %v, want ENOSYS", st)
	}
	fs.Forget(1, 1)
	if got := ops.Count(fuseLookup); got != 1 {
		t.Errorf("lookups counted: %d", got)
	}
	if got := ops.Count(fuseMkdir); got != 1 {
		t.Errorf("mkdirs counted: %d", got)
	}
	if got := ops.Count(fuseWrite); got != 0 {
		t.Errorf("a WRITE answered ENOSYS by Writev is counted %d times; go-fuse sends it to Write, which counts it", got)
	}
	if got := ops.Count(fuseForget); got != 1 {
		t.Errorf("forgets counted: %d", got)
	}
	s := &ops.ops[fuseLookup]
	if sum := time.Duration(s.sumNs.Load()); sum < pause {
		t.Errorf("a lookup that took %v was timed at %v: the clock was read after it ran", pause, sum)
	}
	if errs := s.errnos.Load(); errs == nil || errs[fuse.ENOENT].Load() != 1 {
		t.Error("the lookup's ENOENT is not counted")
	}
}

// BenchmarkGetAttrDecorator is a GETATTR handed to a file system that
// answers at once, plain and through the decorator: the decorator's cost
// per request.
func BenchmarkGetAttrDecorator(b *testing.B) {
	in, out := &fuse.GetAttrIn{}, &fuse.AttrOut{}
	for _, c := range []struct {
		name string
		fs   fuse.RawFileSystem
	}{
		{"plain", fuse.NewDefaultRawFileSystem()},
		{"measured", FUSE(NewFUSEOps())(fuse.NewDefaultRawFileSystem())},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				c.fs.GetAttr(nil, in, out)
			}
		})
	}
}
