package meta

import (
	"context"
	"syscall"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/kv"
)

// GetLayout returns the blocks of ino in [first, first+count) that hold
// data; blocks that are wholly holes are omitted.
func (fs *FS) GetLayout(ctx context.Context, ino uint64, first, count uint64) ([]chunk.Block, error) {
	var out []chunk.Block
	err := fs.view(ctx, func(r reader) error {
		out = out[:0]
		if _, err := r.inode(ino); err != nil {
			return err
		}
		bp := blockPrefix(ino)
		end := kv.PrefixEnd(bp)
		if first+count > first {
			end = blockKey(ino, first+count)
		}
		return r.scan(blockKey(ino, first), end, func(k, p []byte) (bool, error) {
			ps, err := decodePieces(p)
			if err != nil {
				return false, err
			}
			out = append(out, chunk.Block{Index: beUint64(k[len(bp):]), Pieces: ps})
			return true, nil
		})
	})
	return out, fail("getlayout", ino, "", err)
}

// CommitWrite lays the uploaded pieces of w over ino's blocks, extends its
// size and sets its mtime, in one transaction. If ino is gone the pieces'
// objects are recorded as garbage.
func (fs *FS) CommitWrite(ctx context.Context, ino uint64, w chunk.Write) error {
	bs := uint32(fs.super.BlockSize)
	for _, b := range w.Blocks {
		for _, p := range b.Pieces {
			if p.Obj == 0 || p.Len == 0 || p.Off+p.Len > bs || p.Off+p.Len < p.Off {
				return fail("commitwrite", ino, "", errInval)
			}
		}
	}
	bs64 := uint64(bs)
	err := fs.update(ctx, func(t *tx) error {
		n, err := t.inode(ino)
		if err != nil {
			return err
		}
		if !n.isReg() {
			return errInval
		}
		for _, b := range w.Blocks {
			old, err := t.block(ino, b.Index)
			if err != nil {
				return err
			}
			cur := old
			for _, p := range b.Pieces {
				cur = chunk.Overlay(cur, p)
			}
			t.dropObjects(chunk.Dropped(old, cur))
			t.putBlock(ino, b.Index, cur)
		}
		size := w.Size
		for _, b := range w.Blocks {
			for _, p := range b.Pieces {
				// The size always covers every piece: an empty file has none.
				size = max(size, b.Index*bs64+uint64(p.End()))
			}
		}
		if size > n.Size {
			t.bytes += int64(size - n.Size)
			n.Size = size
		}
		if w.Mtime != 0 {
			n.Mtime = w.Mtime
		} else {
			n.Mtime = t.now
		}
		n.Ctime = max(n.Ctime, n.Mtime)
		if w.KillSUID {
			// The caller-dependent part (sgid without group execute) was
			// settled by the SETATTR the kernel sends before such a write.
			killSUID(n, Root)
		}
		t.putInode(n)
		return nil
	})
	if err != nil && Errno(err) == syscall.ENOENT {
		// The file is gone: its new objects are garbage.
		_ = fs.update(ctx, func(t *tx) error {
			for _, b := range w.Blocks {
				for id := range chunk.Objects(b.Pieces) {
					t.dropObjects([]uint64{id})
				}
			}
			return nil
		})
		err = syscall.ESTALE
	}
	return fail("commitwrite", ino, "", err)
}
