package meta

import (
	"context"
	"syscall"
	"testing"
)

func TestCreateAs(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	d := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "d", 0o2777))
	if _, ok, err := fs.Delegable(ctx, d.Ino); err != nil || !ok {
		t.Fatalf("Delegable(new dir) = %v, %v", ok, err)
	}
	first := must[uint64](t)(fs.NewInos(ctx, 4))
	at := d.Mtime + 1000

	a := must[Attr](t)(fs.CreateAs(WithUmask(ctx, 0o022), user, CreateAsIn{Ino: first, Parent: d.Ino, Name: "f", Mode: 0o666, At: at, Open: true}))
	want := Attr{Ino: first, Mode: syscall.S_IFREG | 0o644, Nlink: 1, UID: user.UID, GID: Root.GID, Atime: at, Mtime: at, Ctime: at}
	if a != want {
		t.Fatalf("CreateAs made %+v, want %+v (the parent's group: setgid)", a, want)
	}
	if got := must[Attr](t)(fs.Lookup(ctx, Root, d.Ino, "f")); got != want {
		t.Fatalf("lookup %+v, want %+v", got, want)
	}
	if p := must[Attr](t)(fs.GetAttr(ctx, d.Ino)); p.Mtime != at || p.Ctime != at {
		t.Fatalf("parent times %d %d, want %d", p.Mtime, p.Ctime, at)
	}
	// An earlier time (creates applied out of order) leaves the parent's.
	must[Attr](t)(fs.CreateAs(ctx, user, CreateAsIn{Ino: first + 1, Parent: d.Ino, Name: "g", Mode: 0o644, At: at - 500, Unused: true}))
	if p := must[Attr](t)(fs.GetAttr(ctx, d.Ino)); p.Mtime != at {
		t.Fatalf("parent mtime went back to %d from %d", p.Mtime, at)
	}
	fs.Release(ctx, first)

	for _, tc := range []struct {
		name  string
		ino   uint64
		entry string
		errno syscall.Errno
	}{
		{"a used number", first, "h", syscall.EEXIST},
		{"an existing name", first + 2, "f", syscall.EEXIST},
		{"a number never reserved", first + 1<<20, "h", syscall.EINVAL},
		{"the root", RootIno, "h", syscall.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fs.CreateAs(ctx, user, CreateAsIn{Ino: tc.ino, Parent: d.Ino, Name: tc.entry, Mode: 0o644, At: at})
			wantErrno(t, err, tc.errno)
		})
	}
	_, err := fs.CreateAs(ctx, user, CreateAsIn{Ino: first + 3, Parent: d.Ino, Name: "h", Mode: 0o644})
	wantErrno(t, err, syscall.EINVAL)

	must[struct{}](t)(struct{}{}, fs.SetXattr(ctx, Root, d.Ino, "user.x", []byte("1"), 0))
	if _, ok, err := fs.Delegable(ctx, d.Ino); err != nil || ok {
		t.Fatalf("Delegable(dir with xattrs) = %v, %v", ok, err)
	}
	if _, _, err := fs.Delegable(ctx, first); Errno(err) != syscall.ENOTDIR {
		t.Fatalf("Delegable(file) = %v, want ENOTDIR", err)
	}
}

func TestCreateBatch(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	d := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "d", 0o777))
	first := must[uint64](t)(fs.NewInos(ctx, 8))
	must[Attr](t)(fs.CreateAs(ctx, user, CreateAsIn{Ino: first, Parent: d.Ino, Name: "taken", Mode: 0o644, At: d.Mtime + 1}))
	at := d.Mtime + 100
	item := func(ino uint64, name string, at int64) BatchItem {
		return BatchItem{C: user, Umask: 0o077, In: CreateAsIn{Ino: ino, Parent: d.Ino, Name: name, Mode: 0o666, At: at}}
	}
	attrs, errs := fs.CreateBatch(ctx, []BatchItem{
		item(first+1, "a", at),
		item(first+2, "taken", at+1),
		item(first, "reused", at+2),
		item(first+3, "b", at+3),
		item(first+4, "", at+4),
		item(first+5, "c", 0),
		item(first+1<<20, "never reserved", at+5),
	})
	for i, want := range []syscall.Errno{0, syscall.EEXIST, syscall.EEXIST, 0, syscall.EINVAL, syscall.EINVAL, syscall.EINVAL} {
		if got := Errno(errs[i]); got != want {
			t.Errorf("item %d: %v, want errno %v", i, errs[i], want)
		}
	}
	if a := attrs[3]; a.Ino != first+3 || a.Mode != syscall.S_IFREG|0o600 || a.Mtime != at+3 {
		t.Fatalf("made %+v", a)
	}
	for _, name := range []string{"a", "b"} {
		must[Attr](t)(fs.Lookup(ctx, Root, d.Ino, name))
	}
	for _, name := range []string{"reused", "c", "never reserved"} {
		_, err := fs.Lookup(ctx, Root, d.Ino, name)
		wantErrno(t, err, syscall.ENOENT)
	}
	if p := must[Attr](t)(fs.GetAttr(ctx, d.Ino)); p.Mtime != at+3 {
		t.Fatalf("parent mtime %d, want %d (the latest made)", p.Mtime, at+3)
	}
}
