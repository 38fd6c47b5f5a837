package fusefs

import (
	"context"
	"fmt"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// settlingMeta is a Meta that answered creates before its service did:
// the service refused ino's (Settler).
type settlingMeta struct {
	*fakeMeta
	refused map[uint64]error
	waits   []bool
}

func (m *settlingMeta) Settled(ctx context.Context, ino uint64, wait bool) error {
	m.waits = append(m.waits, wait)
	err := m.refused[ino]
	delete(m.refused, ino)
	return err
}

// A create the service refused after the client answered it shows at the
// file's fsync (which waits for the answer) or close (which does not),
// once, before anything else is done for it.
func TestSettledErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func(f *fileSystem, fh uint64) fuse.Status
		wait bool
	}{
		{"fsync", func(f *fileSystem, _ uint64) fuse.Status { return f.Fsync(nil, &fuse.FsyncIn{InHeader: hdr(3)}) }, true},
		{"close", func(f *fileSystem, fh uint64) fuse.Status {
			return f.Flush(nil, &fuse.FlushIn{InHeader: hdr(3), Fh: fh})
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, fm, d := fileFixture(t, 0o644, 0)
			m := &settlingMeta{fakeMeta: fm, refused: map[uint64]error{3: fmt.Errorf("create: %w", syscall.ENOSPC)}}
			f.meta = m
			var out fuse.OpenOut
			if st := f.Open(nil, &fuse.OpenIn{InHeader: hdr(3), Flags: syscall.O_WRONLY}, &out); st != fuse.OK {
				t.Fatal(st)
			}
			d.took()
			if st := tc.call(f, out.Fh); st != fuse.Status(syscall.ENOSPC) {
				t.Fatalf("%s after a refused create: %v, want ENOSPC", tc.name, st)
			}
			if s := d.took(); s != "[]" {
				t.Fatalf("%s went on after the refusal: %s", tc.name, s)
			}
			if st := tc.call(f, out.Fh); st != fuse.OK {
				t.Fatalf("%s again: %v", tc.name, st)
			}
			if fmt.Sprint(m.waits) != fmt.Sprint([]bool{tc.wait, tc.wait}) {
				t.Fatalf("%s asked with wait %v, want %v", tc.name, m.waits, tc.wait)
			}
		})
	}
}
