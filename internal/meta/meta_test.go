package meta

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/memkv"
)

const testBlock = 1 << 20

type deleted struct {
	mu  sync.Mutex
	ids []uint64
}

func newFS(t *testing.T) (*FS, *deleted, *memkv.Store) {
	t.Helper()
	ctx := context.Background()
	store := memkv.New()
	if err := Format(ctx, store, FormatOptions{BlockSize: testBlock, UUID: "test"}); err != nil {
		t.Fatal(err)
	}
	del := &deleted{}
	fs, err := New(ctx, store, Options{DeleteObjects: func(ctx context.Context, ids []uint64) error {
		del.mu.Lock()
		defer del.mu.Unlock()
		del.ids = append(del.ids, ids...)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs, del, store
}

func wantErrno(t *testing.T, err error, want syscall.Errno) {
	t.Helper()
	if got := Errno(err); got != want {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var user = Caller{UID: 1000, GID: 1000}

func TestNamespaceBasics(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	d := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "d", 0o755))
	if d.Nlink != 2 || !d.IsDir() {
		t.Fatalf("mkdir attr %+v", d)
	}
	root := must[Attr](t)(fs.GetAttr(ctx, RootIno))
	if root.Nlink != 3 {
		t.Fatalf("root nlink %d, want 3", root.Nlink)
	}
	f := must[Attr](t)(fs.Create(ctx, Root, d.Ino, "f", 0o644, syscall.O_RDWR))
	got := must[Attr](t)(fs.Lookup(ctx, Root, d.Ino, "f"))
	if got.Ino != f.Ino || got.Mode != syscall.S_IFREG|0o644 {
		t.Fatalf("lookup %+v, create %+v", got, f)
	}
	_, err := fs.Create(ctx, Root, d.Ino, "f", 0o644, 0)
	wantErrno(t, err, syscall.EEXIST)
	_, err = fs.Lookup(ctx, Root, d.Ino, "nope")
	wantErrno(t, err, syscall.ENOENT)
	_, err = fs.Mkdir(ctx, Root, f.Ino, "x", 0o755)
	wantErrno(t, err, syscall.ENOTDIR)
	_, err = fs.Mkdir(ctx, Root, d.Ino, "a\x00b", 0o755)
	wantErrno(t, err, syscall.EINVAL)
	long := string(slices.Repeat([]byte("a"), 256))
	_, err = fs.Mkdir(ctx, Root, d.Ino, long, 0o755)
	wantErrno(t, err, syscall.ENAMETOOLONG)
	must[Attr](t)(fs.Mkdir(ctx, Root, d.Ino, long[:255], 0o755))

	wantErrno(t, fs.Rmdir(ctx, Root, RootIno, "d"), syscall.ENOTEMPTY)
	wantErrno(t, fs.Unlink(ctx, Root, RootIno, "d"), syscall.EISDIR)
	wantErrno(t, fs.Rmdir(ctx, Root, d.Ino, "f"), syscall.ENOTDIR)

	l := must[Attr](t)(fs.Link(ctx, Root, f.Ino, RootIno, "hard"))
	if l.Nlink != 2 {
		t.Fatalf("nlink after link %d", l.Nlink)
	}
	_, err = fs.Link(ctx, Root, d.Ino, RootIno, "dirlink")
	wantErrno(t, err, syscall.EPERM)
	s := must[Attr](t)(fs.Symlink(ctx, Root, RootIno, "s", "d/f"))
	if tg := must[string](t)(fs.Readlink(ctx, s.Ino)); tg != "d/f" || s.Size != 3 {
		t.Fatalf("readlink %q size %d", tg, s.Size)
	}
	_, err = fs.Readlink(ctx, f.Ino)
	wantErrno(t, err, syscall.EINVAL)

	if err := fs.Unlink(ctx, Root, d.Ino, "f"); err != nil {
		t.Fatal(err)
	}
	if a := must[Attr](t)(fs.GetAttr(ctx, f.Ino)); a.Nlink != 1 {
		t.Fatalf("nlink after unlink %d", a.Nlink)
	}
	st := must[StatFS](t)(fs.StatFS(ctx))
	if st.Files != 5 { // root, d, long, f, s
		t.Fatalf("statfs files %d", st.Files)
	}
}

func TestRename(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	a := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "a", 0o755))
	b := must[Attr](t)(fs.Mkdir(ctx, Root, a.Ino, "b", 0o755))
	f := must[Attr](t)(fs.Mknod(ctx, Root, RootIno, "f", syscall.S_IFREG|0o644, 0))
	g := must[Attr](t)(fs.Mknod(ctx, Root, RootIno, "g", syscall.S_IFREG|0o644, 0))

	wantErrno(t, fs.Rename(ctx, Root, RootIno, "a", b.Ino, "x", 0), syscall.EINVAL)
	wantErrno(t, fs.Rename(ctx, Root, RootIno, "a", a.Ino, "x", 0), syscall.EINVAL)
	wantErrno(t, fs.Rename(ctx, Root, RootIno, "f", RootIno, "g", RenameNoReplace), syscall.EEXIST)
	wantErrno(t, fs.Rename(ctx, Root, RootIno, "f", RootIno, "a", 0), syscall.EISDIR)
	wantErrno(t, fs.Rename(ctx, Root, RootIno, "a", RootIno, "f", 0), syscall.ENOTDIR)
	wantErrno(t, fs.Rename(ctx, Root, RootIno, "f", RootIno, "zz", RenameExchange), syscall.ENOENT)

	// Over a file: g's inode goes away.
	if err := fs.Rename(ctx, Root, RootIno, "f", RootIno, "g", 0); err != nil {
		t.Fatal(err)
	}
	_, err := fs.GetAttr(ctx, g.Ino)
	wantErrno(t, err, syscall.ENOENT)
	if got := must[Attr](t)(fs.Lookup(ctx, Root, RootIno, "g")); got.Ino != f.Ino {
		t.Fatal("g is not f after rename")
	}
	// A directory across directories updates both parents' nlink.
	if err := fs.Rename(ctx, Root, a.Ino, "b", RootIno, "b2", 0); err != nil {
		t.Fatal(err)
	}
	if n := must[Attr](t)(fs.GetAttr(ctx, a.Ino)).Nlink; n != 2 {
		t.Fatalf("a nlink %d", n)
	}
	if n := must[Attr](t)(fs.GetAttr(ctx, RootIno)).Nlink; n != 4 {
		t.Fatalf("root nlink %d", n)
	}
	if dd := must[Attr](t)(fs.Lookup(ctx, Root, b.Ino, "..")); dd.Ino != RootIno {
		t.Fatalf(".. of moved dir is %d", dd.Ino)
	}
	// Over an empty directory, and not over a non-empty one.
	must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "empty", 0o755))
	if err := fs.Rename(ctx, Root, RootIno, "b2", RootIno, "empty", 0); err != nil {
		t.Fatal(err)
	}
	must[Attr](t)(fs.Mknod(ctx, Root, a.Ino, "inside", syscall.S_IFREG|0o644, 0))
	wantErrno(t, fs.Rename(ctx, Root, RootIno, "empty", RootIno, "a", 0), syscall.ENOTEMPTY)
	// Exchange a file and a directory across directories.
	if err := fs.Rename(ctx, Root, RootIno, "g", a.Ino, "inside", 0); err != nil {
		t.Fatal(err)
	}
	if err := fs.Rename(ctx, Root, a.Ino, "inside", RootIno, "empty", RenameExchange); err != nil {
		t.Fatal(err)
	}
	if got := must[Attr](t)(fs.Lookup(ctx, Root, a.Ino, "inside")); got.Ino != b.Ino {
		t.Fatal("exchange did not move the directory")
	}
	if got := must[Attr](t)(fs.Lookup(ctx, Root, RootIno, "empty")); got.Ino != f.Ino {
		t.Fatal("exchange did not move the file")
	}
	if n := must[Attr](t)(fs.GetAttr(ctx, a.Ino)).Nlink; n != 3 {
		t.Fatalf("a nlink after exchange %d", n)
	}
	// Same file under two names: no-op.
	must[Attr](t)(fs.Link(ctx, Root, f.Ino, RootIno, "f2"))
	if err := fs.Rename(ctx, Root, RootIno, "empty", RootIno, "f2", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Lookup(ctx, Root, RootIno, "empty"); err != nil {
		t.Fatal("rename between hard links of one file must leave both", err)
	}
}

func TestPermissions(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	tmp := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "tmp", 0o1777))
	priv := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "priv", 0o700))
	_, err := fs.Lookup(ctx, user, priv.Ino, "x")
	wantErrno(t, err, syscall.EACCES)
	_, err = fs.Mknod(ctx, user, RootIno, "x", syscall.S_IFREG|0o644, 0)
	wantErrno(t, err, syscall.EACCES)
	mine := must[Attr](t)(fs.Create(ctx, user, tmp.Ino, "mine", 0o600, 0))
	other := Caller{UID: 1001, GID: 1001}
	wantErrno(t, fs.Unlink(ctx, other, tmp.Ino, "mine"), syscall.EPERM)
	wantErrno(t, fs.Rename(ctx, other, tmp.Ino, "mine", tmp.Ino, "stolen", 0), syscall.EPERM)
	_, err = fs.Open(ctx, other, mine.Ino, syscall.O_RDONLY)
	wantErrno(t, err, syscall.EACCES)
	_, err = fs.SetAttr(ctx, other, mine.Ino, SetAttrIn{Valid: SetMode, Mode: 0o777})
	wantErrno(t, err, syscall.EPERM)
	_, err = fs.SetAttr(ctx, user, mine.Ino, SetAttrIn{Valid: SetUID, UID: 1001})
	wantErrno(t, err, syscall.EPERM)
	// Group access through a supplementary group.
	g := must[Attr](t)(fs.Create(ctx, Root, RootIno, "g", 0o640, 0))
	must[Attr](t)(fs.SetAttr(ctx, Root, g.Ino, SetAttrIn{Valid: SetGID, GID: 50}))
	_, err = fs.Open(ctx, user, g.Ino, syscall.O_RDONLY)
	wantErrno(t, err, syscall.EACCES)
	withGroup := Caller{UID: 1000, GID: 1000, Groups: []uint32{50}}
	must[Attr](t)(fs.Open(ctx, withGroup, g.Ino, syscall.O_RDONLY))
	// setgid directory: group and setgid bit inherited.
	sg := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "sg", 0o2777))
	must[Attr](t)(fs.SetAttr(ctx, Root, sg.Ino, SetAttrIn{Valid: SetGID | SetMode, GID: 77, Mode: 0o2777}))
	sub := must[Attr](t)(fs.Mkdir(ctx, user, sg.Ino, "sub", 0o755))
	if sub.GID != 77 || sub.Mode&syscall.S_ISGID == 0 {
		t.Fatalf("setgid dir inheritance: %+v", sub)
	}
	// suid cleared by a write of an unprivileged caller and by chown.
	x := must[Attr](t)(fs.Create(ctx, user, tmp.Ino, "x", 0o6755, 0))
	if err := fs.CommitWrite(ctx, x.Ino, chunk.Write{KillSUID: true}); err != nil {
		t.Fatal(err)
	}
	if m := must[Attr](t)(fs.GetAttr(ctx, x.Ino)).Mode; m&(syscall.S_ISUID|syscall.S_ISGID) != 0 {
		t.Fatalf("suid/sgid not cleared by write: %o", m)
	}
}

func TestDataAndGarbage(t *testing.T) {
	fs, del, _ := newFS(t)
	ctx := context.Background()
	f := must[Attr](t)(fs.Create(ctx, Root, RootIno, "f", 0o644, 0))
	id := must[uint64](t)(fs.NewObjectIDs(ctx, 3))
	w := chunk.Write{Size: 3*testBlock + 10, Blocks: []chunk.Block{
		{Index: 0, Pieces: []chunk.Piece{{Obj: id, Len: testBlock}}},
		{Index: 3, Pieces: []chunk.Piece{{Obj: id + 1, Len: 10}}},
	}}
	if err := fs.CommitWrite(ctx, f.Ino, w); err != nil {
		t.Fatal(err)
	}
	// Overwrite the middle of block 0: the old object stays (split).
	if err := fs.CommitWrite(ctx, f.Ino, chunk.Write{Blocks: []chunk.Block{{Index: 0, Pieces: []chunk.Piece{{Obj: id + 2, Off: 100, Len: 50}}}}}); err != nil {
		t.Fatal(err)
	}
	bl := must[[]chunk.Block](t)(fs.GetLayout(ctx, f.Ino, 0, 10))
	if len(bl) != 2 || len(bl[0].Pieces) != 3 || bl[1].Index != 3 {
		t.Fatalf("layout %+v", bl)
	}
	// Truncate into block 0 drops block 3's object and trims block 0.
	a := must[Attr](t)(fs.SetAttr(ctx, Root, f.Ino, SetAttrIn{Valid: SetSize, Size: 120}))
	if a.Size != 120 {
		t.Fatalf("size %d", a.Size)
	}
	bl = must[[]chunk.Block](t)(fs.GetLayout(ctx, f.Ino, 0, 10))
	if len(bl) != 1 || bl[0].Pieces[len(bl[0].Pieces)-1].End() != 120 {
		t.Fatalf("layout after truncate %+v", bl)
	}
	if err := fs.ReapGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	del.mu.Lock()
	if !slices.Equal(del.ids, []uint64{id + 1}) {
		t.Fatalf("deleted %v, want [%d]", del.ids, id+1)
	}
	del.mu.Unlock()
	// Unlink while open: the inode lives until release, then all goes.
	wantUsage := must[StatFS](t)(fs.StatFS(ctx))
	if wantUsage.Bytes != 120 {
		t.Fatalf("usage bytes %d", wantUsage.Bytes)
	}
	if err := fs.Unlink(ctx, Root, RootIno, "f"); err != nil {
		t.Fatal(err)
	}
	if a := must[Attr](t)(fs.GetAttr(ctx, f.Ino)); a.Nlink != 0 {
		t.Fatalf("open unlinked file nlink %d", a.Nlink)
	}
	if err := fs.Release(ctx, f.Ino); err != nil {
		t.Fatal(err)
	}
	_, err := fs.GetAttr(ctx, f.Ino)
	wantErrno(t, err, syscall.ENOENT)
	if err := fs.ReapGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	del.mu.Lock()
	slices.Sort(del.ids)
	if !slices.Equal(del.ids, []uint64{id, id + 1, id + 2}) {
		t.Fatalf("deleted %v", del.ids)
	}
	del.mu.Unlock()
}

func TestOrphanReclaimedAfterRestart(t *testing.T) {
	fs, _, store := newFS(t)
	ctx := context.Background()
	f := must[Attr](t)(fs.Create(ctx, Root, RootIno, "f", 0o644, 0))
	if err := fs.Unlink(ctx, Root, RootIno, "f"); err != nil {
		t.Fatal(err)
	}
	fs.Close() // the process "dies" with the file open
	fs2, err := New(ctx, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fs2.Close()
	_, err = fs2.GetAttr(ctx, f.Ino)
	wantErrno(t, err, syscall.ENOENT)
	if st := must[StatFS](t)(fs2.StatFS(ctx)); st.Files != 1 {
		t.Fatalf("files after reclaim %d", st.Files)
	}
}

func TestReadDirPaging(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 300 {
		name := fmt.Sprintf("file-%03d", i)
		must[Attr](t)(fs.Mknod(ctx, Root, RootIno, name, syscall.S_IFREG|0o644, 0))
		want[name] = true
	}
	var cookie uint64
	seen := map[string]bool{}
	for range 100 {
		es := must[[]DirEntry](t)(fs.ReadDir(ctx, Root, RootIno, cookie, 7, true))
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if seen[e.Name] {
				t.Fatalf("%s listed twice", e.Name)
			}
			if e.Attr == nil || e.Attr.Ino != e.Ino {
				t.Fatalf("plus entry without attributes: %+v", e)
			}
			seen[e.Name] = true
			// Removing entries while listing must not disturb the cookies.
			if err := fs.Unlink(ctx, Root, RootIno, e.Name); err != nil {
				t.Fatal(err)
			}
		}
		cookie = es[len(es)-1].Cookie
	}
	if len(seen) != len(want) {
		t.Fatalf("listed %d of %d entries", len(seen), len(want))
	}
}

func TestXattrs(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	f := must[Attr](t)(fs.Create(ctx, Root, RootIno, "f", 0o644, 0))
	wantErrno(t, fs.SetXattr(ctx, Root, f.Ino, "user.a", []byte("1"), XattrReplace), syscall.ENODATA)
	if err := fs.SetXattr(ctx, Root, f.Ino, "user.a", []byte("1"), XattrCreate); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, fs.SetXattr(ctx, Root, f.Ino, "user.a", []byte("2"), XattrCreate), syscall.EEXIST)
	must[[]byte](t)(nil, fs.SetXattr(ctx, Root, f.Ino, "trusted.t", []byte("t"), 0))
	if v := must[[]byte](t)(fs.GetXattr(ctx, Root, f.Ino, "user.a")); string(v) != "1" {
		t.Fatalf("value %q", v)
	}
	if names := must[[]string](t)(fs.ListXattr(ctx, user, f.Ino)); !slices.Equal(names, []string{"user.a"}) {
		t.Fatalf("user sees %v", names)
	}
	wantErrno(t, fs.SetXattr(ctx, Root, f.Ino, "bogus.a", nil, 0), syscall.EOPNOTSUPP)
	wantErrno(t, fs.SetXattr(ctx, user, f.Ino, "user.b", nil, 0), syscall.EACCES)
	if err := fs.RemoveXattr(ctx, Root, f.Ino, "user.a"); err != nil {
		t.Fatal(err)
	}
	_, err := fs.GetXattr(ctx, Root, f.Ino, "user.a")
	wantErrno(t, err, syscall.ENODATA)
}

func TestCorruptRecordIsEIO(t *testing.T) {
	fs, _, store := newFS(t)
	ctx := context.Background()
	f := must[Attr](t)(fs.Create(ctx, Root, RootIno, "f", 0o644, 0))
	if err := corruptKey(store, inodeKey(f.Ino)); err != nil {
		t.Fatal(err)
	}
	_, err := fs.GetAttr(ctx, f.Ino)
	wantErrno(t, err, syscall.EIO)
}

func TestOpenDirectoryOutlivesRmdir(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	d := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "d", 0o755))
	must[Attr](t)(fs.Open(ctx, Root, d.Ino, syscall.O_RDONLY))
	if err := fs.Rmdir(ctx, Root, RootIno, "d"); err != nil {
		t.Fatal(err)
	}
	if a := must[Attr](t)(fs.GetAttr(ctx, d.Ino)); a.Nlink != 0 {
		t.Fatalf("removed open directory nlink %d", a.Nlink)
	}
	_, err := fs.Mknod(ctx, Root, d.Ino, "x", syscall.S_IFREG|0o644, 0)
	wantErrno(t, err, syscall.ENOENT)
	if err := fs.Release(ctx, d.Ino); err != nil {
		t.Fatal(err)
	}
	_, err = fs.GetAttr(ctx, d.Ino)
	wantErrno(t, err, syscall.ENOENT)
}

func TestTmpfileLink(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	tf := must[Attr](t)(fs.Tmpfile(ctx, Root, RootIno, 0o600))
	if tf.Nlink != 0 {
		t.Fatalf("tmpfile nlink %d", tf.Nlink)
	}
	must[Attr](t)(fs.Link(ctx, Root, tf.Ino, RootIno, "named"))
	if err := fs.Release(ctx, tf.Ino); err != nil {
		t.Fatal(err)
	}
	if a := must[Attr](t)(fs.Lookup(ctx, Root, RootIno, "named")); a.Nlink != 1 {
		t.Fatalf("linked tmpfile nlink %d", a.Nlink)
	}
	// An ordinary file unlinked while open cannot be linked back.
	f := must[Attr](t)(fs.Create(ctx, Root, RootIno, "f", 0o644, 0))
	if err := fs.Unlink(ctx, Root, RootIno, "f"); err != nil {
		t.Fatal(err)
	}
	_, err := fs.Link(ctx, Root, f.Ino, RootIno, "back")
	wantErrno(t, err, syscall.ENOENT)
	if rep := must[CheckReport](t)(fs.Check(ctx, false)); len(rep.Problems) != 0 {
		t.Fatal(rep.Problems)
	}
}

func TestUsageDeltasFold(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	for i := range 2 * foldAfter {
		must[Attr](t)(fs.Mknod(ctx, Root, RootIno, fmt.Sprint(i), syscall.S_IFREG|0o644, 0))
	}
	// The background worker may have folded some already; fold the rest.
	if err := fs.foldUsage(ctx, nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := fs.view(ctx, func(r reader) error {
		return r.r.Scan(usageKey(), kv.PrefixEnd(usageKey()), func(k, v []byte) bool { n++; return true })
	})
	if err != nil || n != 1 {
		t.Fatalf("after fold: %d usage records (%v)", n, err)
	}
	if st := must[StatFS](t)(fs.StatFS(ctx)); st.Files != 2*foldAfter+1 {
		t.Fatalf("files %d", st.Files)
	}
}

func TestRelatime(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	clock := func() time.Time { return now }
	ctx := context.Background()
	store := memkv.New()
	if err := Format(ctx, store, FormatOptions{BlockSize: testBlock, UUID: "t"}); err != nil {
		t.Fatal(err)
	}
	fs, err := New(ctx, store, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	f := must[Attr](t)(fs.Mknod(ctx, Root, RootIno, "f", syscall.S_IFREG|0o644, 0))
	now = now.Add(time.Second)
	if changed := must[bool](t)(fs.Accessed(ctx, f.Ino)); !changed {
		t.Fatal("first read after a change must update atime")
	}
	now = now.Add(time.Second)
	if changed := must[bool](t)(fs.Accessed(ctx, f.Ino)); changed {
		t.Fatal("second read must not update atime under relatime")
	}
	now = now.Add(25 * time.Hour)
	if changed := must[bool](t)(fs.Accessed(ctx, f.Ino)); !changed {
		t.Fatal("a day-old atime must be refreshed")
	}
	if a := must[Attr](t)(fs.GetAttr(ctx, f.Ino)); a.Atime != now.UnixNano() {
		t.Fatalf("atime %d, want %d", a.Atime, now.UnixNano())
	}
}
