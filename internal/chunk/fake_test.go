package chunk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
)

// fakeBlob is an in-memory blob.Store with failure injection and a delay.
type fakeBlob struct {
	mu      sync.Mutex
	objs    map[string][]byte
	putErr  func(key string) error // consulted on every Put
	delay   time.Duration          // slept by every Put
	gets    []string
	puts    int
	deletes int
	syncs   int
}

var _ blob.Store = (*fakeBlob)(nil)

func newFakeBlob() *fakeBlob { return &fakeBlob{objs: make(map[string][]byte)} }

func (b *fakeBlob) Put(ctx context.Context, key string, data []byte) error {
	b.mu.Lock()
	hook, delay := b.putErr, b.delay
	b.mu.Unlock()
	if hook != nil {
		if err := hook(key); err != nil {
			return err
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.objs[key]; ok {
		return fmt.Errorf("put %s: key reused", key)
	}
	b.objs[key] = bytes.Clone(data)
	b.puts++
	return nil
}

func (b *fakeBlob) Get(ctx context.Context, key string, off, length int64) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gets = append(b.gets, key)
	data, ok := b.objs[key]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, blob.ErrNotFound)
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	end := int64(len(data))
	if length >= 0 && off+length < end {
		end = off + length
	}
	return bytes.Clone(data[off:end]), nil
}

func (b *fakeBlob) Delete(ctx context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.objs, key)
	b.deletes++
	return nil
}

func (b *fakeBlob) List(ctx context.Context, prefix string, fn func(blob.Object) error) error {
	b.mu.Lock()
	keys := slices.Sorted(maps.Keys(b.objs))
	b.mu.Unlock()
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			b.mu.Lock()
			n := len(b.objs[k])
			b.mu.Unlock()
			if err := fn(blob.Object{Key: k, Size: int64(n)}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *fakeBlob) Sync(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.syncs++
	return nil
}

func (b *fakeBlob) setPutErr(f func(string) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.putErr = f
}

// keys returns the stored keys, sorted.
func (b *fakeBlob) keys() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Sorted(maps.Keys(b.objs))
}

// mutate changes the stored bytes of key.
func (b *fakeBlob) mutate(key string, f func([]byte) []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objs[key] = f(b.objs[key])
}

// fakeLayout is the metadata service side, built on Overlay: per inode, a
// map of blocks and a size. Like the real service it deletes the objects a
// commit or a truncation leaves unreferenced.
type fakeLayout struct {
	t    testing.TB
	objs blob.Store
	bs   uint64

	mu         sync.Mutex
	files      map[uint64]*fakeFile
	nextID     uint64
	commits    int
	commitErr  error
	commitHook func() // called, unlocked, at the start of CommitWrite
}

type fakeFile struct {
	blocks   map[uint64][]Piece
	size     uint64
	mtime    int64
	killSUID bool
}

func newFakeLayout(t testing.TB, objs blob.Store, bs int) *fakeLayout {
	return &fakeLayout{t: t, objs: objs, bs: uint64(bs), files: make(map[uint64]*fakeFile), nextID: 1}
}

func (l *fakeLayout) file(ino uint64) *fakeFile {
	f := l.files[ino]
	if f == nil {
		f = &fakeFile{blocks: make(map[uint64][]Piece)}
		l.files[ino] = f
	}
	return f
}

func (l *fakeLayout) GetLayout(ctx context.Context, ino uint64, first, count uint64) ([]Block, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Block
	for idx, ps := range l.file(ino).blocks {
		if idx >= first && idx-first < count {
			out = append(out, Block{Index: idx, Pieces: slices.Clone(ps)})
		}
	}
	slices.SortFunc(out, func(a, b Block) int { return int(a.Index) - int(b.Index) })
	return out, nil
}

func (l *fakeLayout) NewObjectIDs(ctx context.Context, n int) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.nextID
	l.nextID += uint64(n)
	return id, nil
}

func (l *fakeLayout) CommitWrite(ctx context.Context, ino uint64, w Write) error {
	l.mu.Lock()
	hook := l.commitHook
	l.mu.Unlock()
	if hook != nil {
		hook()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.commitErr != nil {
		return l.commitErr
	}
	l.commits++
	f := l.file(ino)
	var dropped []uint64
	for _, b := range w.Blocks {
		if !sortedDisjoint(b.Pieces) || b.Pieces[len(b.Pieces)-1].End() > uint32(l.bs) {
			l.t.Errorf("commit of ino %d block %d: bad pieces %v", ino, b.Index, b.Pieces)
		}
		for _, p := range b.Pieces {
			obj, err := l.objs.Get(ctx, ObjectKey(p.Obj), 0, -1)
			if err != nil || uint64(p.ObjOff)+uint64(p.Len)+ObjectHeaderSize > uint64(len(obj)) {
				l.t.Errorf("commit of ino %d block %d: piece %+v names a missing or short object (%v)", ino, b.Index, p, err)
			}
		}
		before := f.blocks[b.Index]
		after := before
		for _, p := range b.Pieces {
			after = Overlay(after, p)
		}
		dropped = append(dropped, Dropped(before, after)...)
		f.blocks[b.Index] = after
	}
	f.size = max(f.size, w.Size)
	f.mtime = w.Mtime
	f.killSUID = f.killSUID || w.KillSUID
	l.deleteLocked(dropped)
	return nil
}

func (l *fakeLayout) deleteLocked(ids []uint64) {
	for _, id := range ids {
		_ = l.objs.Delete(context.Background(), ObjectKey(id))
	}
}

// truncate sets the size of ino as the metadata service would.
func (l *fakeLayout) truncate(ino, size uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.file(ino)
	var dropped []uint64
	for idx, before := range f.blocks {
		var after []Piece
		switch {
		case idx*l.bs >= size:
		case (idx+1)*l.bs > size:
			after = Truncate(before, uint32(size-idx*l.bs))
		default:
			continue
		}
		dropped = append(dropped, Dropped(before, after)...)
		if len(after) == 0 {
			delete(f.blocks, idx)
		} else {
			f.blocks[idx] = after
		}
	}
	f.size = size
	l.deleteLocked(dropped)
}

func (l *fakeLayout) size(ino uint64) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.file(ino).size
}

func (l *fakeLayout) pieces(ino, idx uint64) []Piece {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.file(ino).blocks[idx])
}

// referenced returns the keys of every object a layout references, sorted.
func (l *fakeLayout) referenced() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	set := make(map[string]bool)
	for _, f := range l.files {
		for _, ps := range f.blocks {
			for _, p := range ps {
				set[ObjectKey(p.Obj)] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// rig is a Store over a blob store (by default a fakeBlob, then also in
// objs) and a fake layout.
type rig struct {
	t     testing.TB
	store blob.Store
	objs  *fakeBlob
	lay   *fakeLayout
	s     *Store
	log   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newRig(t testing.TB, opts Options) *rig {
	objs := newFakeBlob()
	r := newRigOn(t, objs, opts)
	r.objs = objs
	return r
}

func newRigOn(t testing.TB, store blob.Store, opts Options) *rig {
	if opts.BlockSize == 0 {
		opts.BlockSize = 64 << 10
	}
	r := &rig{t: t, store: store, log: &syncBuffer{}}
	r.lay = newFakeLayout(t, store, opts.BlockSize)
	if opts.Logger == nil {
		opts.Logger = newTestLogger(r.log)
	}
	r.s = New(store, r.lay, opts)
	t.Cleanup(func() { r.s.Close() })
	return r
}

// fileSize is the size a client would report: committed and dirty.
func (r *rig) fileSize(ino uint64) uint64 {
	size := r.lay.size(ino)
	if ds, _, ok := r.s.buffered(ino); ok {
		size = max(size, ds)
	}
	return size
}

func (r *rig) write(ino uint64, p []byte, off int64) {
	r.t.Helper()
	if err := r.s.Write(context.Background(), ino, p, off, false); err != nil {
		r.t.Fatalf("write ino %d [%d,+%d): %v", ino, off, len(p), err)
	}
}

func (r *rig) flush(ino uint64) {
	r.t.Helper()
	if err := r.s.Flush(context.Background(), ino); err != nil {
		r.t.Fatalf("flush ino %d: %v", ino, err)
	}
}

// read reads [off, off+n) at the current size.
func (r *rig) read(ino uint64, off int64, n int) []byte {
	r.t.Helper()
	p := make([]byte, n)
	got, err := r.s.Read(context.Background(), ino, p, off, r.fileSize(ino))
	if err != nil {
		r.t.Fatalf("read ino %d [%d,+%d): %v", ino, off, n, err)
	}
	return p[:got]
}

// checkObjects asserts that the store holds exactly the objects the
// layouts reference: nothing leaked, nothing dangling.
func (r *rig) checkObjects() {
	r.t.Helper()
	var got []string
	err := r.store.List(context.Background(), objectKeyPrefix, func(o blob.Object) error {
		got = append(got, o.Key)
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if want := r.lay.referenced(); !slices.Equal(got, want) {
		r.t.Fatalf("stored objects %v, referenced %v", got, want)
	}
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// waitUploads waits until no upload is in flight.
func (r *rig) waitUploads() {
	r.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.s.mu.Lock()
		n, ch := r.s.inflight, r.s.changed
		r.s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			r.t.Fatalf("uploads still in flight after 30s")
		}
	}
}
