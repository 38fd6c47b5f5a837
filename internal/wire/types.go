package wire

import (
	"time"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/meta"
)

// Field limits. The decoder refuses longer fields; the service refuses
// what POSIX refuses (a 256-byte name is ENAMETOOLONG there, not here, so
// that the caller gets the errno it expects).
const (
	MaxName       = 1024
	MaxPath       = 4096  // a symlink target
	MaxXattrValue = 65536 // XATTR_SIZE_MAX
	MaxGroups     = 65536 // NGROUPS_MAX
	MaxKey        = 1024  // an object key
	MaxReason     = 4096  // an error reply's text
	MaxClient     = 256   // a client's self-description in Hello
)

func encodeCaller(e *Encoder, c meta.Caller) {
	e.U32(c.UID)
	e.U32(c.GID)
	e.U32(c.PID)
	e.U32(uint32(len(c.Groups)))
	for _, g := range c.Groups {
		e.U32(g)
	}
}

func decodeCaller(d *Decoder) meta.Caller {
	c := meta.Caller{UID: d.U32(), GID: d.U32(), PID: d.U32()}
	n := d.Count(4)
	if n > MaxGroups {
		d.Fail("%d groups", n)
		return c
	}
	if n > 0 {
		c.Groups = make([]uint32, n)
		for i := range c.Groups {
			c.Groups[i] = d.U32()
		}
	}
	return c
}

const attrSize = 8 + 4*5 + 8 + 8*3

func encodeAttr(e *Encoder, a meta.Attr) {
	e.U64(a.Ino)
	e.U32(a.Mode)
	e.U32(a.Nlink)
	e.U32(a.UID)
	e.U32(a.GID)
	e.U32(a.Rdev)
	e.U64(a.Size)
	e.I64(a.Atime)
	e.I64(a.Mtime)
	e.I64(a.Ctime)
}

func decodeAttr(d *Decoder) meta.Attr {
	return meta.Attr{
		Ino: d.U64(), Mode: d.U32(), Nlink: d.U32(), UID: d.U32(), GID: d.U32(), Rdev: d.U32(),
		Size: d.U64(), Atime: d.I64(), Mtime: d.I64(), Ctime: d.I64(),
	}
}

func encodeSetAttrIn(e *Encoder, in meta.SetAttrIn) {
	e.U32(in.Valid)
	e.U32(in.Mode)
	e.U32(in.UID)
	e.U32(in.GID)
	e.U64(in.Size)
	e.I64(in.Atime)
	e.I64(in.Mtime)
	e.I64(in.Ctime)
}

func decodeSetAttrIn(d *Decoder) meta.SetAttrIn {
	return meta.SetAttrIn{
		Valid: d.U32(), Mode: d.U32(), UID: d.U32(), GID: d.U32(),
		Size: d.U64(), Atime: d.I64(), Mtime: d.I64(), Ctime: d.I64(),
	}
}

const pieceSize = 8 + 4*3

func encodeBlocks(e *Encoder, bs []chunk.Block) {
	e.U32(uint32(len(bs)))
	for _, b := range bs {
		e.U64(b.Index)
		e.U32(uint32(len(b.Pieces)))
		for _, p := range b.Pieces {
			e.U64(p.Obj)
			e.U32(p.ObjOff)
			e.U32(p.Off)
			e.U32(p.Len)
		}
	}
}

func decodeBlocks(d *Decoder) []chunk.Block {
	n := d.Count(12)
	if n == 0 {
		return nil
	}
	bs := make([]chunk.Block, n)
	for i := range bs {
		bs[i].Index = d.U64()
		m := d.Count(pieceSize)
		if m > 0 {
			bs[i].Pieces = make([]chunk.Piece, m)
			for j := range bs[i].Pieces {
				bs[i].Pieces[j] = chunk.Piece{Obj: d.U64(), ObjOff: d.U32(), Off: d.U32(), Len: d.U32()}
			}
		}
		if d.Err() != nil {
			return nil
		}
	}
	return bs
}

func encodeStrings(e *Encoder, ss []string) {
	e.U32(uint32(len(ss)))
	for _, s := range ss {
		e.String(s)
	}
}

func decodeStrings(d *Decoder, max int) []string {
	n := d.Count(4)
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.String(max)
	}
	return ss
}

func encodeU64s(e *Encoder, vs []uint64) {
	e.U32(uint32(len(vs)))
	for _, v := range vs {
		e.U64(v)
	}
}

func decodeU64s(d *Decoder) []uint64 {
	n := d.Count(8)
	if n == 0 {
		return nil
	}
	vs := make([]uint64, n)
	for i := range vs {
		vs[i] = d.U64()
	}
	return vs
}

func encodeObject(e *Encoder, o blob.Object) {
	e.String(o.Key)
	e.I64(o.Size)
	e.I64(o.ModTime.UnixNano())
}

func decodeObject(d *Decoder) blob.Object {
	o := blob.Object{Key: d.String(MaxKey), Size: d.I64()}
	o.ModTime = time.Unix(0, d.I64())
	return o
}
