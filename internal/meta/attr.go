package meta

import (
	"context"
	"encoding/binary"
	"syscall"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/kv"
)

// SetAttr changes the attributes of ino (chmod, chown, truncate, utimensat).
func (fs *FS) SetAttr(ctx context.Context, c Caller, ino uint64, in SetAttrIn) (Attr, error) {
	var a Attr
	err := fs.update(ctx, func(t *tx) error {
		n, err := t.inode(ino)
		if err != nil {
			return err
		}
		owner := c.UID == 0 || c.UID == n.UID
		if in.Valid&SetMode != 0 {
			if !owner {
				return errPerm
			}
			mode := in.Mode & 0o7777
			if c.UID != 0 && !n.isDir() && !c.InGroup(n.GID) {
				mode &^= syscall.S_ISGID
			}
			n.Mode = n.fileType() | mode
			if err := t.chmodACL(n); err != nil {
				return err
			}
		}
		if in.Valid&(SetUID|SetGID) != 0 {
			uid, gid := n.UID, n.GID
			if in.Valid&SetUID != 0 {
				uid = in.UID
			}
			if in.Valid&SetGID != 0 {
				gid = in.GID
			}
			if c.UID != 0 {
				if in.Valid&SetUID != 0 && (c.UID != n.UID || uid != n.UID) {
					return errPerm
				}
				if in.Valid&SetGID != 0 && (c.UID != n.UID || gid != n.GID && !c.InGroup(gid)) {
					return errPerm
				}
			}
			if in.Valid&SetMode == 0 {
				killSUID(n, c)
			}
			n.UID, n.GID = uid, gid
		}
		if in.Valid&SetSize != 0 {
			if n.isDir() {
				return syscall.EISDIR
			}
			if !n.isReg() {
				return errInval
			}
			if in.Valid&SetFromHandle == 0 {
				if err := t.permit(c, n, mayWrite); err != nil {
					return err
				}
			}
			if err := t.truncate(n, in.Size); err != nil {
				return err
			}
			n.Mtime = t.now
		}
		if in.Valid&SetKillSUID != 0 {
			killSUID(n, c)
		}
		if in.Valid&(SetAtime|SetMtime) != 0 && !owner {
			return errPerm
		}
		if in.Valid&(SetAtimeNow|SetMtimeNow) != 0 && !owner {
			if err := t.permit(c, n, mayWrite); err != nil {
				return err
			}
		}
		switch {
		case in.Valid&SetAtimeNow != 0:
			n.Atime = t.now
		case in.Valid&SetAtime != 0:
			n.Atime = in.Atime
		}
		switch {
		case in.Valid&SetMtimeNow != 0:
			n.Mtime = t.now
		case in.Valid&SetMtime != 0:
			n.Mtime = in.Mtime
		}
		n.Ctime = t.now
		if in.Valid&SetCtime != 0 {
			n.Ctime = in.Ctime
		}
		t.putInode(n)
		a = n.Attr
		return nil
	})
	return a, fail("setattr", ino, "", err)
}

// truncate sets a regular file's size, dropping the pieces past it.
func (t *tx) truncate(n *inode, size uint64) error {
	if size < n.Size {
		bs := uint64(t.fs.super.BlockSize)
		first := size / bs
		cut := uint32(size % bs)
		bp := blockPrefix(n.Ino)
		type blk struct {
			idx uint64
			ps  []chunk.Piece
		}
		var blocks []blk
		err := t.scan(blockKey(n.Ino, first), kv.PrefixEnd(bp), func(k, p []byte) (bool, error) {
			ps, err := decodePieces(p)
			if err != nil {
				return false, err
			}
			blocks = append(blocks, blk{idx: beUint64(k[len(bp):]), ps: ps})
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, b := range blocks {
			var keep []chunk.Piece
			if b.idx == first {
				keep = chunk.Truncate(b.ps, cut)
			}
			t.dropObjects(chunk.Dropped(b.ps, keep))
			t.putBlock(n.Ino, b.idx, keep)
		}
	}
	t.bytes += int64(size) - int64(n.Size)
	n.Size = size
	return nil
}

// fallocate modes, as fallocate(2).
const (
	fallocKeepSize  = 0x01
	fallocPunchHole = 0x02
	fallocZeroRange = 0x10
)

// Fallocate implements fallocate(2) modes 0, KEEP_SIZE, PUNCH_HOLE and
// ZERO_RANGE. Space is not reserved: objects are written when data is.
func (fs *FS) Fallocate(ctx context.Context, c Caller, ino uint64, mode uint32, off, length uint64) error {
	if length == 0 || off+length < off || off+length > 1<<62 {
		return fail("fallocate", ino, "", errInval)
	}
	if mode&^(fallocKeepSize|fallocPunchHole|fallocZeroRange) != 0 ||
		mode&fallocPunchHole != 0 && mode&fallocKeepSize == 0 ||
		mode&fallocPunchHole != 0 && mode&fallocZeroRange != 0 {
		return fail("fallocate", ino, "", syscall.EOPNOTSUPP)
	}
	err := fs.update(ctx, func(t *tx) error {
		n, err := t.inode(ino)
		if err != nil {
			return err
		}
		if n.isDir() {
			return syscall.EISDIR
		}
		if !n.isReg() {
			return syscall.ENODEV
		}
		if mode&(fallocPunchHole|fallocZeroRange) != 0 {
			if err := t.punch(n, off, min(off+length, n.Size)); err != nil {
				return err
			}
			n.Mtime = t.now
		}
		if mode&fallocKeepSize == 0 && off+length > n.Size {
			t.bytes += int64(off + length - n.Size)
			n.Size = off + length
		}
		n.Ctime = t.now
		t.putInode(n)
		return nil
	})
	return fail("fallocate", ino, "", err)
}

// punch makes [off, end) of n a hole.
func (t *tx) punch(n *inode, off, end uint64) error {
	if end <= off {
		return nil
	}
	bs := uint64(t.fs.super.BlockSize)
	bp := blockPrefix(n.Ino)
	var idxs []uint64
	var blocks [][]chunk.Piece
	err := t.scan(blockKey(n.Ino, off/bs), blockKey(n.Ino, (end+bs-1)/bs), func(k, p []byte) (bool, error) {
		ps, err := decodePieces(p)
		if err != nil {
			return false, err
		}
		idxs = append(idxs, beUint64(k[len(bp):]))
		blocks = append(blocks, ps)
		return true, nil
	})
	if err != nil {
		return err
	}
	for i, b := range idxs {
		lo := max(off, b*bs) - b*bs
		hi := min(end, (b+1)*bs) - b*bs
		keep := chunk.Punch(blocks[i], uint32(lo), uint32(hi))
		t.dropObjects(chunk.Dropped(blocks[i], keep))
		t.putBlock(n.Ino, b, keep)
	}
	return nil
}

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
