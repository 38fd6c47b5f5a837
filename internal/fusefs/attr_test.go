package fusefs

import (
	"math"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

func TestSplitJoinNs(t *testing.T) {
	for _, tc := range []struct {
		ns   int64
		sec  int64
		nsec uint32
	}{
		{0, 0, 0},
		{1, 0, 1},
		{1_500_000_000, 1, 500_000_000},
		{-1, -1, 999_999_999},
		{-1_000_000_000, -1, 0},
		{-1_500_000_000, -2, 500_000_000},
		{math.MaxInt64, math.MaxInt64 / int64(1e9), uint32(math.MaxInt64 % int64(1e9))},
	} {
		sec, nsec := splitNs(tc.ns)
		if int64(sec) != tc.sec || nsec != tc.nsec {
			t.Errorf("splitNs(%d) = %d, %d; want %d, %d", tc.ns, int64(sec), nsec, tc.sec, tc.nsec)
		}
		if back := joinNs(sec, nsec); back != tc.ns {
			t.Errorf("joinNs(splitNs(%d)) = %d", tc.ns, back)
		}
	}
	// Out of range times clamp instead of wrapping.
	if got := joinNs(uint64(1<<62), 0); got != math.MaxInt64 {
		t.Errorf("far future = %d, want MaxInt64", got)
	}
	if got := joinNs(uint64(math.MaxInt64/int64(1e9)), 999_999_999); got != math.MaxInt64 {
		t.Errorf("last second = %d, want MaxInt64", got)
	}
	neg := int64(-1 << 62)
	if got := joinNs(uint64(neg), 0); got != math.MinInt64/int64(1e9)*int64(1e9) {
		t.Errorf("far past = %d", got)
	}
	if got := joinNs(5, 2e9); got != 5*1e9+999_999_999 {
		t.Errorf("nsec out of range = %d", got)
	}
}

func TestToFuseAttr(t *testing.T) {
	a := meta.Attr{Ino: 9, Mode: syscall.S_IFREG | 0o4755, Nlink: 2, UID: 5, GID: 6, Rdev: 0, Size: 513,
		Atime: 1_000_000_001, Mtime: -1, Ctime: 3_000_000_000}
	var out fuse.Attr
	toFuseAttr(&out, a)
	if out.Ino != 9 || out.Mode != a.Mode || out.Nlink != 2 || out.Uid != 5 || out.Gid != 6 || out.Size != 513 || out.Blocks != 2 {
		t.Fatalf("attr = %+v", out)
	}
	if out.Atime != 1 || out.Atimensec != 1 || int64(out.Mtime) != -1 || out.Mtimensec != 999_999_999 || out.Ctime != 3 || out.Ctimensec != 0 {
		t.Fatalf("times = %+v", out)
	}
	dev := meta.Attr{Ino: 10, Mode: syscall.S_IFCHR | 0o600, Rdev: 0x0801, Size: 4096}
	toFuseAttr(&out, dev)
	if out.Rdev != 0x0801 || out.Blocks != 0 {
		t.Fatalf("device attr = %+v", out)
	}
}

func TestOverlayAndTimeouts(t *testing.T) {
	f, _, d := testFS(t, Options{EntryTimeout: 2 * time.Second, AttrTimeout: 3 * time.Second, NegativeTimeout: -1})
	d.dirty[9] = [2]int64{8192, 5_000_000_000}
	file := meta.Attr{Ino: 9, Mode: syscall.S_IFREG | 0o644, Size: 10, Mtime: 1e9, Ctime: 1e9}

	var eo fuse.EntryOut
	f.fillEntry(&eo, file)
	if eo.NodeId != 9 || eo.Size != 8192 || eo.Mtime != 5 || eo.Ctime != 5 || eo.Blocks != 16 {
		t.Fatalf("entry = %+v", eo)
	}
	if eo.EntryTimeout() != 2*time.Second || eo.AttrTimeout() != 3*time.Second {
		t.Fatalf("timeouts = %v, %v", eo.EntryTimeout(), eo.AttrTimeout())
	}

	// Buffered writes below the committed size do not shrink it.
	d.dirty[9] = [2]int64{4, 6_000_000_000}
	f.fillEntry(&eo, file)
	if eo.Size != 10 || eo.Mtime != 6 {
		t.Fatalf("entry with writes inside the file = %+v", eo)
	}

	// Only regular files have buffered writes.
	var ao fuse.AttrOut
	f.fillAttr(&ao, meta.Attr{Ino: 9, Mode: syscall.S_IFDIR | 0o755, Size: 10})
	if ao.Size != 10 || ao.Timeout() != 3*time.Second {
		t.Fatalf("dir attr = %+v", ao)
	}

	var neg fuse.EntryOut
	f.fillNegative(&neg)
	if neg.NodeId != 0 || neg.EntryTimeout() != 0 {
		t.Fatalf("negative entry with caching disabled = %+v", neg)
	}
}

func TestOptionDefaults(t *testing.T) {
	o := Options{AttrTimeout: -1}.withDefaults()
	if o.EntryTimeout != time.Hour || o.NegativeTimeout != time.Hour || o.AttrTimeout != -1 {
		t.Fatalf("timeouts = %v %v %v", o.EntryTimeout, o.AttrTimeout, o.NegativeTimeout)
	}
	if o.FsName != "ferry" || o.Logger == nil {
		t.Fatalf("defaults = %+v", o)
	}
}
