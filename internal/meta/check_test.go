package meta

import (
	"context"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/chunk"
)

func TestCheckCleanVolume(t *testing.T) {
	fs, _, _ := newFS(t)
	ctx := context.Background()
	d := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "d", 0o755))
	f := must[Attr](t)(fs.Create(ctx, Root, d.Ino, "f", 0o644, 0))
	must[Attr](t)(fs.Link(ctx, Root, f.Ino, RootIno, "f2"))
	id := must[uint64](t)(fs.NewObjectIDs(ctx, 1))
	if err := fs.CommitWrite(ctx, f.Ino, chunk.Write{Size: 10, Blocks: []chunk.Block{{Pieces: []chunk.Piece{{Obj: id, Len: 10}}}}}); err != nil {
		t.Fatal(err)
	}
	rep := must[CheckReport](t)(fs.Check(ctx, false))
	if len(rep.Problems) != 0 {
		t.Fatalf("clean volume has problems: %v", rep.Problems)
	}
	if rep.Inodes != 3 || rep.Objects[id] != f.Ino {
		t.Fatalf("report %+v", rep)
	}
}

func TestCheckRepairs(t *testing.T) {
	fs, _, store := newFS(t)
	ctx := context.Background()
	d := must[Attr](t)(fs.Mkdir(ctx, Root, RootIno, "d", 0o755))
	f := must[Attr](t)(fs.Create(ctx, Root, d.Ino, "f", 0o644, 0))
	g := must[Attr](t)(fs.Create(ctx, Root, d.Ino, "g", 0o644, 0))
	// Damage: a wrong link count, a name pointing nowhere, an inode
	// without a name.
	err := fs.update(ctx, func(t *tx) error {
		n, err := t.inode(f.Ino)
		if err != nil {
			return err
		}
		n.Nlink = 5
		t.putInode(n)
		t.putDirent(d.Ino, "ghost", dirent{Ino: 999999, Type: syscall.S_IFREG})
		t.delDirent(d.Ino, "g")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := must[CheckReport](t)(fs.Check(ctx, true))
	if len(rep.Problems) < 3 || rep.Repaired == 0 {
		t.Fatalf("problems %v repaired %d", rep.Problems, rep.Repaired)
	}
	rep = must[CheckReport](t)(fs.Check(ctx, false))
	if len(rep.Problems) != 0 {
		t.Fatalf("after repair: %v", rep.Problems)
	}
	lf := must[Attr](t)(fs.Lookup(ctx, Root, RootIno, "lost+found"))
	if got := must[Attr](t)(fs.Lookup(ctx, Root, lf.Ino, "#"+itoa(g.Ino))); got.Ino != g.Ino {
		t.Fatal("unreachable inode not in lost+found")
	}
	if err := corruptKey(store, inodeKey(f.Ino)); err != nil {
		t.Fatal(err)
	}
	rep = must[CheckReport](t)(fs.Check(ctx, false))
	if len(rep.Problems) == 0 {
		t.Fatal("corrupt record not reported")
	}
}

func itoa(n uint64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}
