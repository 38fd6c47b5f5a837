package chunk

import (
	"fmt"
	"slices"
)

// A Piece maps Len bytes at offset Off inside a block to the bytes at
// ObjOff inside the payload of object Obj. Objects never span blocks, and an
// object is referenced only by pieces of the one block it was written for.
type Piece struct {
	Obj    uint64
	ObjOff uint32
	Off    uint32
	Len    uint32
}

// End is the block offset just past the piece.
func (p Piece) End() uint32 { return p.Off + p.Len }

// A Block lists the pieces of block number Index of a file (the bytes at file
// offsets [Index*BlockSize, (Index+1)*BlockSize)). Pieces are sorted by Off
// and never overlap; bytes that no piece covers read as zeros.
type Block struct {
	Index  uint64
	Pieces []Piece
}

// Write is what a client commits after uploading objects: for each block, new
// pieces laid over the existing ones in order, the file size the write
// extends the file to (never shrinks it), the modification time in Unix
// nanoseconds, and whether suid/sgid must be cleared (a write by a caller
// without CAP_FSETID).
type Write struct {
	Blocks   []Block
	Size     uint64
	Mtime    int64
	KillSUID bool
}

// ObjectKey is the object store key of object id.
func ObjectKey(id uint64) string {
	return fmt.Sprintf("blocks/%02x/%016x", id&0xff, id)
}

// ParseObjectKey is the inverse of ObjectKey.
func ParseObjectKey(key string) (uint64, bool) {
	var shard, id uint64
	n, err := fmt.Sscanf(key, "blocks/%02x/%016x", &shard, &id)
	if err != nil || n != 2 || id&0xff != shard || ObjectKey(id) != key {
		return 0, false
	}
	return id, true
}

// Overlay lays p over the sorted, non-overlapping pieces and returns the
// result, sorted and non-overlapping. Pieces p shadows are trimmed or dropped.
// The input slice is not modified.
func Overlay(pieces []Piece, p Piece) []Piece {
	out := make([]Piece, 0, len(pieces)+2)
	for _, q := range pieces {
		if q.End() <= p.Off || q.Off >= p.End() {
			out = append(out, q)
			continue
		}
		if q.Off < p.Off { // left remainder
			out = append(out, Piece{Obj: q.Obj, ObjOff: q.ObjOff, Off: q.Off, Len: p.Off - q.Off})
		}
		if q.End() > p.End() { // right remainder
			cut := p.End() - q.Off
			out = append(out, Piece{Obj: q.Obj, ObjOff: q.ObjOff + cut, Off: p.End(), Len: q.End() - p.End()})
		}
	}
	if p.Len > 0 {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Piece) int { return int(a.Off) - int(b.Off) })
	return out
}

// Truncate keeps only the bytes of pieces below block offset n.
func Truncate(pieces []Piece, n uint32) []Piece {
	out := make([]Piece, 0, len(pieces))
	for _, q := range pieces {
		switch {
		case q.End() <= n:
			out = append(out, q)
		case q.Off < n:
			q.Len = n - q.Off
			out = append(out, q)
		}
	}
	return out
}

// Punch removes the bytes in [off, end) of the block, leaving a hole.
func Punch(pieces []Piece, off, end uint32) []Piece {
	if end <= off {
		return slices.Clone(pieces)
	}
	// Lay a placeholder over the range, then drop it.
	const hole = ^uint64(0)
	out := Overlay(pieces, Piece{Obj: hole, Off: off, Len: end - off})
	return slices.DeleteFunc(out, func(q Piece) bool { return q.Obj == hole })
}

// Objects returns the set of objects the pieces reference.
func Objects(pieces []Piece) map[uint64]struct{} {
	m := make(map[uint64]struct{}, len(pieces))
	for _, q := range pieces {
		m[q.Obj] = struct{}{}
	}
	return m
}

// Dropped returns the objects referenced by before but not by after, sorted.
func Dropped(before, after []Piece) []uint64 {
	keep := Objects(after)
	var out []uint64
	for id := range Objects(before) {
		if _, ok := keep[id]; !ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
