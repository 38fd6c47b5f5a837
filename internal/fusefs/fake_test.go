package fusefs

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fakeMeta is a small in-memory namespace for the adapter's unit tests.
// It records the calls it gets. Methods it does not define panic (nil
// embedded interface), which fails the test that reached them.
type fakeMeta struct {
	Meta

	mu      sync.Mutex
	attrs   map[uint64]meta.Attr
	parent  map[uint64]uint64            // directory -> its parent
	dirents map[uint64][]meta.DirEntry   // directory -> entries, by Cookie
	names   map[uint64]map[string]uint64 // directory -> name -> ino
	xattrs  map[uint64]map[string][]byte // ino -> name -> value
	calls   []string
	setAttr []meta.SetAttrIn
	errs    map[string]error // op -> error to return
}

func newFakeMeta() *fakeMeta {
	m := &fakeMeta{
		attrs:   map[uint64]meta.Attr{},
		parent:  map[uint64]uint64{1: 1},
		dirents: map[uint64][]meta.DirEntry{},
		names:   map[uint64]map[string]uint64{},
		xattrs:  map[uint64]map[string][]byte{},
		errs:    map[string]error{},
	}
	m.attrs[1] = meta.Attr{Ino: 1, Mode: syscall.S_IFDIR | 0o755, Nlink: 2}
	return m
}

func (m *fakeMeta) record(op string) error {
	m.calls = append(m.calls, op)
	return m.errs[op]
}

// add puts a node named name into directory dir with the given cookie.
func (m *fakeMeta) add(dir uint64, name string, a meta.Attr, cookie uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.attrs[a.Ino] = a
	if a.IsDir() {
		m.parent[a.Ino] = dir
	}
	if m.names[dir] == nil {
		m.names[dir] = map[string]uint64{}
	}
	m.names[dir][name] = a.Ino
	m.dirents[dir] = append(m.dirents[dir], meta.DirEntry{Name: name, Ino: a.Ino, Mode: a.Mode & syscall.S_IFMT, Cookie: cookie})
	sort.Slice(m.dirents[dir], func(i, j int) bool { return m.dirents[dir][i].Cookie < m.dirents[dir][j].Cookie })
}

func (m *fakeMeta) Lookup(ctx context.Context, c meta.Caller, parent uint64, name string) (meta.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.record("lookup"); err != nil {
		return meta.Attr{}, err
	}
	if name == ".." {
		return m.attrs[m.parent[parent]], nil
	}
	ino, ok := m.names[parent][name]
	if !ok {
		return meta.Attr{}, &meta.Error{Op: "lookup", Ino: parent, Name: name, Err: syscall.ENOENT}
	}
	return m.attrs[ino], nil
}

func (m *fakeMeta) GetAttr(ctx context.Context, ino uint64) (meta.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.record("getattr"); err != nil {
		return meta.Attr{}, err
	}
	a, ok := m.attrs[ino]
	if !ok {
		return meta.Attr{}, syscall.ENOENT
	}
	return a, nil
}

func (m *fakeMeta) SetAttr(ctx context.Context, c meta.Caller, ino uint64, in meta.SetAttrIn) (meta.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.record("setattr"); err != nil {
		return meta.Attr{}, err
	}
	m.setAttr = append(m.setAttr, in)
	a := m.attrs[ino]
	if in.Valid&meta.SetSize != 0 {
		a.Size = in.Size
	}
	if in.Valid&meta.SetKillSUID != 0 {
		a.Mode &^= syscall.S_ISUID
		if a.Mode&syscall.S_IXGRP != 0 || !c.InGroup(a.GID) {
			a.Mode &^= syscall.S_ISGID
		}
	}
	m.attrs[ino] = a
	return a, nil
}

func (m *fakeMeta) Open(ctx context.Context, c meta.Caller, ino uint64, flags uint32) (meta.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.record("open"); err != nil {
		return meta.Attr{}, err
	}
	a := m.attrs[ino]
	if flags&syscall.O_TRUNC != 0 {
		a.Size = 0
		m.attrs[ino] = a
	}
	return a, nil
}

func (m *fakeMeta) Accessed(ctx context.Context, ino uint64) (bool, error) { return false, nil }

func (m *fakeMeta) Release(ctx context.Context, ino uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.record("release")
}

func (m *fakeMeta) ReadDir(ctx context.Context, c meta.Caller, ino, cookie uint64, max int, plus bool) ([]meta.DirEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.record("readdir"); err != nil {
		return nil, err
	}
	if a, ok := m.attrs[ino]; !ok || !a.IsDir() {
		return nil, syscall.ENOTDIR
	}
	var out []meta.DirEntry
	for _, e := range m.dirents[ino] {
		if e.Cookie <= cookie {
			continue
		}
		if len(out) == max {
			break
		}
		if plus {
			a := m.attrs[e.Ino]
			e.Attr = &a
		}
		out = append(out, e)
	}
	return out, nil
}

func (m *fakeMeta) GetXattr(ctx context.Context, c meta.Caller, ino uint64, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.xattrs[ino][name]
	if !ok {
		return nil, syscall.ENODATA
	}
	return v, nil
}

func (m *fakeMeta) ListXattr(ctx context.Context, c meta.Caller, ino uint64) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	for k := range m.xattrs[ino] {
		names = append(names, k)
	}
	sort.Strings(names)
	return names, nil
}

func (m *fakeMeta) StatFS(ctx context.Context) (meta.StatFS, error) {
	return meta.StatFS{Files: uint64(len(m.attrs)), Bytes: 1 << 20}, nil
}

func (m *fakeMeta) Sync(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.record("sync")
}

func (m *fakeMeta) Fallocate(ctx context.Context, c meta.Caller, ino uint64, mode uint32, off, length uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.record("fallocate")
}

// fakeData records data-path calls; Reported reports what dirty holds.
type fakeData struct {
	mu    sync.Mutex
	calls []string
	dirty map[uint64][2]int64 // ino -> size, mtime
	errs  map[string]error
	kill  []bool
}

func newFakeData() *fakeData {
	return &fakeData{dirty: map[uint64][2]int64{}, errs: map[string]error{}}
}

func (d *fakeData) record(op string, ino uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, fmt.Sprintf("%s %d", op, ino))
	return d.errs[op]
}

func (d *fakeData) Write(ctx context.Context, ino uint64, p []byte, off int64, killSUID bool) error {
	d.mu.Lock()
	d.kill = append(d.kill, killSUID)
	d.mu.Unlock()
	return d.record("write", ino)
}

func (d *fakeData) ReadSlices(ctx context.Context, ino uint64, p []byte, off int64, size uint64) ([][]byte, int, error) {
	if err := d.record("read", ino); err != nil {
		return nil, 0, err
	}
	n := 0
	for i := range p {
		if uint64(off)+uint64(i) >= size {
			break
		}
		p[i] = byte(off + int64(i))
		n++
	}
	return [][]byte{p[:n]}, n, nil
}

func (d *fakeData) Reported(ino uint64) (uint64, int64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.dirty[ino]
	return uint64(v[0]), v[1], ok
}

func (d *fakeData) Flush(ctx context.Context, ino uint64) error { return d.record("flush", ino) }
func (d *fakeData) FlushAll(ctx context.Context) error          { return d.record("flushall", 0) }
func (d *fakeData) SyncObjects(ctx context.Context) error       { return d.record("syncobjects", 0) }
func (d *fakeData) Truncate(ino uint64, size uint64) {
	_ = d.record(fmt.Sprintf("truncate@%d", size), ino)
}
func (d *fakeData) Invalidate(ino uint64) { _ = d.record("invalidate", ino) }

// testFS returns a file system over fresh fakes, logging to t.
func testFS(t *testing.T, opts Options) (*fileSystem, *fakeMeta, *fakeData) {
	t.Helper()
	m, d := newFakeMeta(), newFakeData()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	f := newFileSystem(m, d, opts)
	f.groups = newGroupCache(time.Now, func(uint32) ([]uint32, error) { return []uint32{100, 200}, nil })
	return f, m, d
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// hdr is a request header from uid 1000 for node ino.
func hdr(ino uint64) fuse.InHeader {
	return fuse.InHeader{NodeId: ino, Caller: fuse.Caller{Owner: fuse.Owner{Uid: 1000, Gid: 1000}, Pid: 42}}
}

// syncBuf is a log destination safe for goroutines that outlive a test.
type syncBuf struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

// testLogger logs into buf, shown if the test fails.
func testLogger(t *testing.T, buf *syncBuf) *slog.Logger {
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (m *fakeMeta) Hold(ctx context.Context, ino uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.record(fmt.Sprintf("hold %d", ino))
}

func (m *fakeMeta) Mknod(ctx context.Context, c meta.Caller, parent uint64, name string, mode, rdev uint32) (meta.Attr, error) {
	m.mu.Lock()
	if err := m.record(fmt.Sprintf("mknod umask=%o", meta.UmaskFrom(ctx))); err != nil {
		m.mu.Unlock()
		return meta.Attr{}, err
	}
	ino := uint64(100 + len(m.attrs))
	m.mu.Unlock()
	a := meta.Attr{Ino: ino, Mode: mode, Nlink: 1, Rdev: rdev}
	m.add(parent, name, a, ino)
	return a, nil
}

func (m *fakeMeta) Tmpfile(ctx context.Context, c meta.Caller, parent uint64, mode uint32) (meta.Attr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.record(fmt.Sprintf("tmpfile umask=%o", meta.UmaskFrom(ctx))); err != nil {
		return meta.Attr{}, err
	}
	a := meta.Attr{Ino: uint64(100 + len(m.attrs)), Mode: syscall.S_IFREG | mode}
	m.attrs[a.Ino] = a
	return a, nil
}
