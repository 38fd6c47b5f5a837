package chunk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestSparseFileAndEOF(t *testing.T) {
	r := newRig(t, Options{BlockSize: 64 << 10})
	const ino = 1
	a := fill(make([]byte, 1000), 1)
	b := fill(make([]byte, 3000), 2)
	r.write(ino, a, 0)
	r.write(ino, b, 10<<20) // block 160, far past EOF
	if size, _, ok := r.s.buffered(ino); !ok || size != 10<<20+3000 {
		t.Fatalf("Dirty = %d, %v", size, ok)
	}
	check := func() {
		t.Helper()
		if got := r.read(ino, 0, 1000); !bytes.Equal(got, a) {
			t.Fatalf("head differs")
		}
		if got := r.read(ino, 5000, 1<<20); !bytes.Equal(got, make([]byte, 1<<20)) {
			t.Fatalf("hole does not read as zeros")
		}
		if got := r.read(ino, 10<<20-10, 100); !bytes.Equal(got, append(make([]byte, 10), b[:90]...)) {
			t.Fatalf("read across the hole's end differs")
		}
		if got := r.read(ino, 10<<20+2000, 5000); !bytes.Equal(got, b[2000:]) {
			t.Fatalf("read across EOF returned %d bytes, want %d", len(got), 1000)
		}
		if got := r.read(ino, 10<<20+3000, 10); len(got) != 0 {
			t.Fatalf("read at EOF returned %d bytes", len(got))
		}
		if got := r.read(ino, 1<<40, 10); len(got) != 0 {
			t.Fatalf("read far past EOF returned %d bytes", len(got))
		}
	}
	check()
	r.flush(ino)
	if got := r.lay.size(ino); got != 10<<20+3000 {
		t.Fatalf("committed size %d", got)
	}
	// Holes are not uploaded: one object per written range.
	if n := len(r.objs.keys()); n != 2 {
		t.Fatalf("%d objects stored, want 2", n)
	}
	r.s.Invalidate(ino)
	check()
}

// TestBeyond4GiB addresses a sparse file at offsets past 2^32, including
// a write straddling a block boundary there.
func TestBeyond4GiB(t *testing.T) {
	r := newRig(t, Options{BlockSize: 64 << 10})
	const ino = 7
	offs := []int64{1<<32 - 100, 5<<32 + 12345, 1<<40 + (64<<10 - 10)}
	var data [][]byte
	for i, off := range offs {
		p := fill(make([]byte, 200), uint64(i+1))
		data = append(data, p)
		r.write(ino, p, off)
	}
	r.flush(ino)
	r.s.Invalidate(ino)
	for i, off := range offs {
		if got := r.read(ino, off, 200); !bytes.Equal(got, data[i]) {
			t.Fatalf("data at %d differs", off)
		}
		if got := r.read(ino, off-100, 300); !bytes.Equal(got, append(make([]byte, 100), data[i]...)) {
			t.Fatalf("data before %d differs", off)
		}
	}
	if got, want := r.lay.size(ino), uint64(offs[2]+200); got != want {
		t.Fatalf("size %d, want %d", got, want)
	}
	// Each straddling write makes two pieces in two blocks.
	if got := len(r.objs.keys()); got != 5 {
		t.Fatalf("%d objects, want 5", got)
	}
	r.checkObjects()
}

func TestConcurrentInodes(t *testing.T) {
	r := newRig(t, Options{BlockSize: 32 << 10, DirtyBytes: 256 << 10, Uploads: 3})
	const files, size = 6, 400 << 10
	want := make([][]byte, files)
	var wg sync.WaitGroup
	errs := make(chan error, files)
	for f := range files {
		want[f] = fill(make([]byte, size), uint64(f)*1000)
		wg.Go(func() {
			ctx := context.Background()
			// Out-of-order chunks of uneven length.
			for _, c := range [][2]int{{100 << 10, 150 << 10}, {0, 100 << 10}, {150 << 10, size}} {
				for off := c[0]; off < c[1]; off += 7000 {
					end := min(off+7000, c[1])
					if err := r.s.Write(ctx, uint64(f+1), want[f][off:end], int64(off), false); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := r.s.FlushAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	for f := range files {
		ino := uint64(f + 1)
		if _, _, ok := r.s.buffered(ino); ok {
			t.Fatalf("ino %d still dirty", ino)
		}
		r.s.Invalidate(ino)
		if got := r.read(ino, 0, size+10); !bytes.Equal(got, want[f]) {
			t.Fatalf("ino %d differs at %d", ino, firstDiff(got, want[f]))
		}
	}
	r.checkObjects()
}

// TestWriteDuringFlush writes while a Flush commits: what is written after
// the Flush took its snapshot stays dirty for the next one, and reads see
// everything throughout.
func TestWriteDuringFlush(t *testing.T) {
	r := newRig(t, Options{BlockSize: 16 << 10, DirtyBytes: 1 << 20})
	const ino = 3
	var model []byte
	write := func(p []byte, off int) {
		r.write(ino, p, int64(off))
		if end := off + len(p); end > len(model) {
			model = append(model, make([]byte, end-len(model))...)
		}
		copy(model[off:], p)
	}
	for i := range 20 {
		write(fill(make([]byte, 5000), uint64(i)), i*4000)
	}
	for round := range 3 {
		entered, gate := make(chan struct{}), make(chan struct{})
		r.lay.mu.Lock()
		r.lay.commitHook = func() { close(entered); <-gate }
		r.lay.mu.Unlock()
		done := make(chan error)
		go func() { done <- r.s.Flush(context.Background(), ino) }()
		<-entered
		for i := range 20 {
			write(fill(make([]byte, 3000), uint64(round*100+i)), (i*7919+round*1000)%120000)
		}
		if got := r.read(ino, 0, len(model)); !bytes.Equal(got, model) {
			t.Fatalf("round %d: read during commit differs at %d", round, firstDiff(got, model))
		}
		close(gate)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, _, ok := r.s.buffered(ino); !ok {
			t.Fatalf("round %d: writes made during the commit are not dirty", round)
		}
		if got := r.read(ino, 0, len(model)); !bytes.Equal(got, model) {
			t.Fatalf("round %d: differs at %d", round, firstDiff(got, model))
		}
	}
	r.lay.mu.Lock()
	r.lay.commitHook = nil
	r.lay.mu.Unlock()
	r.flush(ino)
	if _, _, ok := r.s.buffered(ino); ok {
		t.Fatal("dirty after the final flush")
	}
	r.s.Invalidate(ino)
	if got := r.read(ino, 0, len(model)); !bytes.Equal(got, model) {
		t.Fatalf("committed data differs at %d", firstDiff(got, model))
	}
	r.checkObjects()
}

// TestDirtyBound writes 64 times the write-back budget through a slow
// store, from one and from several writers, and checks the accounted
// memory never went over the budget.
func TestDirtyBound(t *testing.T) {
	const bs, limit = 64 << 10, 4 * (64<<10 + ObjectHeaderSize)
	r := newRig(t, Options{BlockSize: bs, DirtyBytes: limit, CacheBytes: 1 << 20, Uploads: 2})
	r.objs.delay = 200 * time.Microsecond
	const total = 64 * limit
	chunk := fill(make([]byte, 24<<10), 9) // not a divisor of the block size
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			ino := uint64(10 + w)
			for off := 0; off < total/3; off += len(chunk) {
				if err := r.s.Write(context.Background(), ino, chunk, int64(off), false); err != nil {
					t.Error(err)
					return
				}
			}
			if err := r.s.Flush(context.Background(), ino); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r.s.mu.Lock()
	peak, dirty := r.s.peakDirty, r.s.dirty
	r.s.mu.Unlock()
	if peak > limit {
		t.Fatalf("peak dirty memory %d over the limit %d", peak, limit)
	}
	if peak < limit/2 {
		t.Fatalf("peak dirty memory %d: the buffer was hardly used", peak)
	}
	if dirty != 0 {
		t.Fatalf("%d bytes still accounted after flushing", dirty)
	}
	r.s.Invalidate(10)
	size := r.fileSize(10)
	want := bytes.Repeat(chunk, int(size)/len(chunk))
	if got := r.read(10, 0, int(size)); !bytes.Equal(got, want) {
		t.Fatalf("file of %d bytes differs from the %d written at %d", len(got), len(want), firstDiff(got, want))
	}
}

var errFull = fmt.Errorf("store full: %w", syscall.ENOSPC)

// TestUploadFailureRetry fails background uploads, checks the failure is
// reported without losing or partly committing data, then retries.
func TestUploadFailureRetry(t *testing.T) {
	const bs = 16 << 10
	r := newRig(t, Options{BlockSize: bs, DirtyBytes: 8 * bs})
	const ino = 5
	ctx := context.Background()
	r.objs.setPutErr(func(string) error { return errFull })

	full := fill(make([]byte, 2*bs), 1) // two full blocks: uploaded at once
	r.write(ino, full, 0)
	// The failure shows up at a later Write of the inode, which then
	// buffers nothing.
	r.waitUploads()
	if err := r.s.Write(ctx, ino, []byte("x"), 3*bs, false); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write after a failed upload: %v, want ENOSPC", err)
	}
	part := fill(make([]byte, 1000), 2)
	r.write(ino, part, 2*bs+500)
	want := append(bytes.Clone(full), append(make([]byte, 500), part...)...)
	if got := r.read(ino, 0, len(want)+1); !bytes.Equal(got, want) {
		t.Fatalf("buffered data differs at %d", firstDiff(got, want))
	}
	// Flush reports the failure of its own uploads and commits nothing.
	if err := r.s.Flush(ctx, ino); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("flush: %v, want ENOSPC", err)
	}
	if r.lay.commits != 0 {
		t.Fatalf("%d commits despite failed uploads", r.lay.commits)
	}
	if size, _, ok := r.s.buffered(ino); !ok || size != uint64(len(want)) {
		t.Fatalf("Dirty = %d, %v after a failed flush", size, ok)
	}
	// Once the store has room again, Flush commits everything.
	r.objs.setPutErr(nil)
	r.flush(ino)
	r.s.Invalidate(ino)
	if got := r.read(ino, 0, len(want)+1); !bytes.Equal(got, want) {
		t.Fatalf("committed data differs at %d", firstDiff(got, want))
	}
	r.checkObjects()
	if r.lay.commits != 1 {
		t.Fatalf("%d commits, want 1", r.lay.commits)
	}
	if !bytes.Contains([]byte(r.log.String()), []byte("upload failed")) {
		t.Fatalf("upload failure not logged: %s", r.log.String())
	}
}

// TestBufferFullOfFailures checks a writer does not wait forever when all
// buffered memory belongs to uploads that failed.
func TestBufferFullOfFailures(t *testing.T) {
	const bs = 16 << 10
	r := newRig(t, Options{BlockSize: bs, DirtyBytes: 3 * (bs + ObjectHeaderSize)})
	r.objs.setPutErr(func(string) error { return errFull })
	ctx := context.Background()
	var err error
	for i := range 10 {
		// A new inode each time: its own upload failures are not pending.
		if err = r.s.Write(ctx, uint64(100+i), fill(make([]byte, bs), 1), 0, false); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write into a buffer full of failed uploads: %v, want ENOSPC", err)
	}
}

func TestCommitCarriesSizeMtimeKillSUID(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := newRig(t, Options{BlockSize: 16 << 10, Now: clock})
	const ino = 9
	r.write(ino, []byte("abc"), 100)
	mu.Lock()
	now = time.Unix(2000, 5)
	mu.Unlock()
	if err := r.s.Write(context.Background(), ino, []byte("de"), 50, true); err != nil {
		t.Fatal(err)
	}
	if size, mtime, ok := r.s.buffered(ino); !ok || size != 103 || mtime != now.UnixNano() {
		t.Fatalf("Dirty = %d, %d, %v", size, mtime, ok)
	}
	r.flush(ino)
	f := r.lay.files[ino]
	if f.size != 103 || f.mtime != now.UnixNano() || !f.killSUID {
		t.Fatalf("committed size %d mtime %d killSUID %v", f.size, f.mtime, f.killSUID)
	}
	// A flush with nothing buffered commits nothing.
	r.flush(ino)
	if r.lay.commits != 1 {
		t.Fatalf("%d commits, want 1", r.lay.commits)
	}
}

func TestTruncateDropsBuffered(t *testing.T) {
	const bs = 16 << 10
	r := newRig(t, Options{BlockSize: bs})
	const ino = 4
	data := fill(make([]byte, 3*bs+100), 3)
	r.write(ino, data, 0) // three full blocks upload in the background
	r.s.Truncate(ino, bs+10)
	r.lay.truncate(ino, bs+10)
	if size, _, _ := r.s.buffered(ino); size != bs+10 {
		t.Fatalf("dirty size %d after truncation", size)
	}
	r.s.Truncate(ino, 2*bs) // extend: the gap reads as zeros
	r.lay.truncate(ino, 2*bs)
	want := append(bytes.Clone(data[:bs+10]), make([]byte, bs-10)...)
	if got := r.read(ino, 0, 4*bs); !bytes.Equal(got, want) {
		t.Fatalf("buffered read differs at %d", firstDiff(got, want))
	}
	r.flush(ino)
	r.s.Invalidate(ino)
	if got := r.read(ino, 0, 4*bs); !bytes.Equal(got, want) {
		t.Fatalf("committed read differs at %d", firstDiff(got, want))
	}
	r.checkObjects()
}

func TestWriteArguments(t *testing.T) {
	r := newRig(t, Options{})
	ctx := context.Background()
	if err := r.s.Write(ctx, 1, []byte("x"), -1, false); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("negative offset: %v", err)
	}
	if err := r.s.Write(ctx, 1, []byte("xy"), 1<<63-1, false); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("offset overflow: %v", err)
	}
	if err := r.s.Write(ctx, 1, nil, 10, false); err != nil {
		t.Fatalf("empty write: %v", err)
	}
	if _, _, ok := r.s.buffered(1); ok {
		t.Fatal("an empty write made the file dirty")
	}
	r.s.Close()
	if err := r.s.Write(ctx, 1, []byte("x"), 0, false); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if err := r.s.Flush(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("flush after close: %v", err)
	}
}

// TestPressureSealsOldest writes small pieces of many files into a small
// budget: the oldest dirty blocks are uploaded to make room, the newest
// stay buffered, and nothing is lost.
func TestPressureSealsOldest(t *testing.T) {
	const bs = 16 << 10
	r := newRig(t, Options{BlockSize: bs, DirtyBytes: 4 * (bs + ObjectHeaderSize)})
	const files = 400
	for f := range files {
		r.write(uint64(f+1), fill(make([]byte, 100), uint64(f)), int64(f*10))
	}
	dirty := func(ino uint64) bool {
		in := r.s.peek(ino)
		in.mu.Lock()
		defer in.mu.Unlock()
		return len(in.dirty) > 0
	}
	if dirty(1) {
		t.Fatal("the oldest dirty block was not sealed under pressure")
	}
	if !dirty(files) {
		t.Fatal("the newest dirty block was sealed")
	}
	if err := r.s.FlushAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	for f := range files {
		ino := uint64(f + 1)
		want := append(make([]byte, f*10), fill(make([]byte, 100), uint64(f))...)
		if got := r.read(ino, 0, len(want)+1); !bytes.Equal(got, want) {
			t.Fatalf("ino %d differs", ino)
		}
	}
	r.checkObjects()
}
