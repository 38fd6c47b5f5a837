package crashtest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ferryfs/ferry/internal/blob/memblob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/fsck"
	"github.com/ferryfs/ferry/internal/kv/pebblekv"
	"github.com/ferryfs/ferry/internal/meta"
)

var (
	crashPoints = flag.Int("ferry.crashpoints", 60, "number of crash points (N-th store write) to test")
	crashSeed   = flag.Uint64("ferry.crashseed", 0, "workload seed (0: derived from the crash point)")
)

const blockSize = 64 << 10

// file is the model of one file: its committed content and the content
// its last successful fsync made durable.
type file struct {
	ino     uint64
	data    []byte
	durable []byte // nil: never fsynced
	// uncertain: changed (written, renamed, unlinked) since its last fsync,
	// so after a crash either state may be found.
	uncertain bool
}

type world struct {
	t     *testing.T
	ctx   context.Context
	fs    *meta.FS
	data  *chunk.Store
	rng   *rand.Rand
	files map[string]*file // by name in the root directory
	b     *budget
}

func (w *world) names() []string {
	var out []string
	for n := range w.files {
		out = append(out, n)
	}
	// Deterministic order for a deterministic workload.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (w *world) pick() (string, *file) {
	ns := w.names()
	if len(ns) == 0 {
		return "", nil
	}
	n := ns[w.rng.IntN(len(ns))]
	return n, w.files[n]
}

// step runs one random operation; an error means the process "died".
func (w *world) step(i int) error {
	ctx := w.ctx
	switch op := w.rng.IntN(10); {
	case op < 2 || len(w.files) == 0: // create
		name := fmt.Sprintf("f%03d", i)
		a, err := w.fs.Create(ctx, meta.Root, meta.RootIno, name, 0o644, syscall.O_RDWR)
		if err != nil {
			return err
		}
		if err := w.fs.Release(ctx, a.Ino); err != nil {
			return err
		}
		w.files[name] = &file{ino: a.Ino, uncertain: true}
	case op < 6: // write
		_, f := w.pick()
		off := w.rng.IntN(3 * blockSize)
		p := make([]byte, 1+w.rng.IntN(blockSize+blockSize/2))
		for j := range p {
			p[j] = byte(w.rng.Uint32())
		}
		if err := w.data.Write(ctx, f.ino, p, int64(off), false); err != nil {
			return err
		}
		if end := off + len(p); end > len(f.data) {
			f.data = append(f.data, make([]byte, end-len(f.data))...)
		}
		copy(f.data[off:], p)
		f.uncertain = true
		if w.rng.IntN(2) == 0 { // close: commit without fsync
			if err := w.data.Flush(ctx, f.ino); err != nil {
				return err
			}
		}
	case op < 8: // fsync one file: flush, objects, metadata
		_, f := w.pick()
		if err := w.data.Flush(ctx, f.ino); err != nil {
			return err
		}
		if err := w.data.SyncObjects(ctx); err != nil {
			return err
		}
		if err := w.fs.Sync(ctx); err != nil {
			return err
		}
		// Everything committed so far is now durable: metadata syncs
		// are whole-store.
		w.markDurable(f)
	case op < 9: // rename
		from, f := w.pick()
		to := fmt.Sprintf("r%03d", i)
		if err := w.fs.Rename(ctx, meta.Root, meta.RootIno, from, meta.RootIno, to, 0); err != nil {
			return err
		}
		delete(w.files, from)
		f.uncertain = true
		w.files[to] = f
	default: // unlink
		name, f := w.pick()
		if err := w.fs.Unlink(ctx, meta.Root, meta.RootIno, name); err != nil {
			return err
		}
		delete(w.files, name)
		_ = f
		// A removed name is uncertain until the next sync; stop
		// tracking it: nothing must be checked about it.
	}
	return nil
}

// markDurable records the state after a successful fsync of f. The data
// of other files that were committed (flushed) is durable too, but files
// with unflushed writes are not, so only f is marked.
func (w *world) markDurable(f *file) {
	f.durable = bytes.Clone(f.data)
	f.uncertain = false
}

func TestCrashAtNthStoreWrite(t *testing.T) {
	t.Parallel()
	for n := 1; n <= *crashPoints; n++ {
		point := n*7 - 3 // spread over the first few hundred writes
		t.Run(fmt.Sprint(point), func(t *testing.T) {
			seed := *crashSeed
			if seed == 0 {
				seed = uint64(point)
			}
			runCrash(t, point, seed)
		})
	}
}

func runCrash(t *testing.T, point int, seed uint64) {
	ctx := context.Background()
	mem := vfs.NewCrashableMem()
	kvs, err := pebblekv.Open("db", pebblekv.Options{FS: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := meta.Format(ctx, kvs, meta.FormatOptions{BlockSize: blockSize, UUID: "crash"}); err != nil {
		t.Fatal(err)
	}
	if err := kvs.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	b := &budget{left: point}
	objs := memblob.New()
	cblob := crashBlob{Store: objs, b: b}
	deleteObjs := func(ctx context.Context, ids []uint64) error {
		for _, id := range ids {
			if err := cblob.Delete(ctx, chunk.ObjectKey(id)); err != nil {
				return err
			}
		}
		return nil
	}
	fs, err := meta.New(ctx, crashKV{Store: kvs, b: b}, meta.Options{DeleteObjects: deleteObjs})
	if err != nil {
		t.Fatal(err)
	}
	data := chunk.New(cblob, fs, chunk.Options{BlockSize: blockSize, CacheBytes: 1 << 20, DirtyBytes: 1 << 20, Uploads: 2})
	w := &world{t: t, ctx: ctx, fs: fs, data: data, rng: rand.New(rand.NewPCG(seed, 1)), files: map[string]*file{}, b: b}
	steps := 0
	for ; steps < 400 && !b.crashed(); steps++ {
		if err := w.step(steps); err != nil {
			if !b.crashed() {
				t.Fatalf("seed %d step %d: unexpected error before the crash: %v", seed, steps, err)
			}
			break
		}
	}
	// The process dies: only what the stores made durable survives.
	clone := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	data.Close()
	fs.Close()
	kvs.Close()

	kv2, err := pebblekv.Open("db", pebblekv.Options{FS: clone})
	if err != nil {
		t.Fatalf("seed %d: reopening the store after the crash: %v", seed, err)
	}
	defer kv2.Close()
	fs2, err := meta.New(ctx, kv2, meta.Options{DeleteObjects: func(ctx context.Context, ids []uint64) error {
		for _, id := range ids {
			if err := objs.Delete(ctx, chunk.ObjectKey(id)); err != nil {
				return err
			}
		}
		return nil
	}})
	if err != nil {
		t.Fatalf("seed %d: reopening the volume after the crash: %v", seed, err)
	}
	defer fs2.Close()
	data2 := chunk.New(objs, fs2, chunk.Options{BlockSize: blockSize, CacheBytes: 1 << 20, DirtyBytes: 1 << 20, Uploads: 2})
	defer data2.Close()

	checked := 0
	for name, f := range w.files {
		if f.uncertain || f.durable == nil {
			continue
		}
		a, err := fs2.Lookup(ctx, meta.Root, meta.RootIno, name)
		if err != nil {
			t.Fatalf("seed %d crash at write %d (step %d): fsynced file %s lost: %v", seed, point, steps, name, err)
		}
		got := make([]byte, a.Size)
		n, err := data2.Read(ctx, a.Ino, got, 0, a.Size)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("seed %d: reading fsynced %s: %v", seed, name, err)
		}
		if !bytes.Equal(got[:n], f.durable) {
			t.Fatalf("seed %d crash at write %d: fsynced %s has %d bytes, differing from the %d fsynced", seed, point, name, n, len(f.durable))
		}
		checked++
	}
	var out bytes.Buffer
	rep, err := fsck.Check(ctx, fs2, objs, fsck.Options{Repair: true, Verify: true}, &out)
	if err != nil {
		t.Fatalf("seed %d: fsck: %v\n%s", seed, err, out.String())
	}
	if len(rep.Meta.Problems) > 0 || len(rep.Missing) > 0 || len(rep.Corrupt) > 0 {
		t.Fatalf("seed %d crash at write %d: volume inconsistent after crash:\n%s", seed, point, out.String())
	}
	out.Reset()
	rep, err = fsck.Check(ctx, fs2, objs, fsck.Options{Verify: true}, &out)
	if err != nil || !rep.Clean() {
		t.Fatalf("seed %d: not clean after repair (%v):\n%s", seed, err, out.String())
	}
	t.Logf("crash at write %d after %d steps: %d fsynced files verified", point, steps, checked)
}
