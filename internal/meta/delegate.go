package meta

import (
	"context"
	"encoding/binary"
	"errors"
	"syscall"
)

// A client that holds a directory's delegation (package service) answers
// creates in it itself, with inode numbers the service reserved for it
// (NewInos) and attributes it can compute exactly (Delegable says where it
// can), then sends them here (CreateAs), which makes exactly that inode.

// Delegable returns dir's attributes and whether a client can compute the
// attributes of a file created in it: dir is a directory without extended
// attributes, so without a default ACL.
func (fs *FS) Delegable(ctx context.Context, dir uint64) (Attr, bool, error) {
	var a Attr
	ok := false
	err := fs.view(ctx, func(r reader) error {
		n, err := r.dir(dir)
		if err != nil {
			return err
		}
		a, ok = n.Attr, n.Flags&inodeXattrs == 0
		return nil
	})
	return a, ok, fail("delegable", dir, "", err)
}

// NewInos reserves n inode numbers and returns the first.
func (fs *FS) NewInos(ctx context.Context, n int) (uint64, error) {
	if n <= 0 {
		return 0, fail("newinos", 0, "", errInval)
	}
	ino, err := fs.inos.alloc(ctx, fs, uint64(n))
	return ino, fail("newinos", 0, "", err)
}

// CreateAsIn is what CreateAs makes: regular file Name in Parent, with
// inode number Ino (reserved by NewInos, not used yet) and times At (Unix
// nanoseconds), left open (as Create leaves it) if Open is set. Unused
// says the caller knows Ino was never used, which spares a read.
type CreateAsIn struct {
	Ino, Parent uint64
	Name        string
	Mode        uint32
	At          int64
	Open        bool
	Unused      bool
}

// CreateAs is Create with the inode number and times chosen by the
// caller.
func (fs *FS) CreateAs(ctx context.Context, c Caller, in CreateAsIn) (Attr, error) {
	if in.At == 0 {
		return Attr{}, fail("create", in.Parent, in.Name, errInval)
	}
	if err := fs.reserved(ctx, in.Ino); err != nil {
		return Attr{}, fail("create", in.Parent, in.Name, err)
	}
	if in.Open {
		fs.openInc(in.Ino)
	}
	at := newAt{at: in.At, unused: in.Unused}
	a, err := fs.makeNodeIno(ctx, c, in.Ino, in.Parent, in.Name, syscall.S_IFREG|in.Mode&0o7777, 0, "", at)
	if err != nil && in.Open {
		fs.openDec(in.Ino)
	}
	return a, fail("create", in.Parent, in.Name, err)
}

// newAt is when, and with what number, a node is made: the transaction's
// time and a fresh number (the zero value), or a time and a number the
// caller chose (CreateAs), checked unless the caller knows it is unused.
type newAt struct {
	at     int64
	unused bool
}

// reserved checks that ino was handed out by the inode allocator: below
// the next number it hands out, or else below the store's counter.
func (fs *FS) reserved(ctx context.Context, ino uint64) error {
	fs.inos.mu.Lock()
	next := fs.inos.next
	fs.inos.mu.Unlock()
	if ino > RootIno && ino < next {
		return nil
	}
	return fs.view(ctx, func(r reader) error {
		p, ok, err := r.get(fs.inos.key)
		if err != nil {
			return err
		}
		if ino <= RootIno || !ok || len(p) != 8 || ino >= binary.LittleEndian.Uint64(p) {
			return errInval
		}
		return nil
	})
}

// BatchItem is one create of CreateBatch: CreateAs's, by caller C with
// umask Umask, made closed.
type BatchItem struct {
	C     Caller
	Umask uint32
	In    CreateAsIn
}

// CreateBatch makes the files of items in one transaction, each as
// CreateAs makes it (closed: In.Open is ignored), and returns each one's
// attributes or error. An item refused (its name taken, its number used,
// its directory gone or closed to its caller) leaves nothing behind and
// does not stop the others; a failure of the store fails them all.
func (fs *FS) CreateBatch(ctx context.Context, items []BatchItem) ([]Attr, []error) {
	attrs := make([]Attr, len(items))
	errs := make([]error, len(items))
	refused := make([]bool, len(items))
	for i, it := range items {
		in := it.In
		switch {
		case in.At == 0:
			errs[i] = errInval
		default:
			errs[i] = validName(in.Name)
			if errs[i] == nil {
				errs[i] = fs.reserved(ctx, in.Ino)
			}
		}
		refused[i] = errs[i] != nil
	}
	err := fs.update(ctx, func(t *tx) error {
		// Every item's reads in one go, on stores that batch them.
		keys := make([][]byte, 0, 2*len(items))
		for i, it := range items {
			if !refused[i] {
				keys = append(keys, inodeKey(it.In.Parent), direntKey(it.In.Parent, it.In.Name))
			}
		}
		t.prefetch(keys...)
		for i, it := range items {
			if refused[i] {
				continue
			}
			in := it.In
			attrs[i], errs[i] = t.makeNode(it.C, in.Ino, in.Parent, in.Name, syscall.S_IFREG|in.Mode&0o7777, 0, "", newAt{at: in.At, unused: in.Unused}, it.Umask)
			var en syscall.Errno
			if errs[i] != nil && !errors.As(errs[i], &en) {
				return errs[i] // the store failed: nothing commits
			}
		}
		return nil
	})
	for i, it := range items {
		if err != nil && !refused[i] {
			errs[i] = err
		}
		errs[i] = fail("create", it.In.Parent, it.In.Name, errs[i])
	}
	return attrs, errs
}
