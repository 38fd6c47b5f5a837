package chunk

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// sub returns the part of p covering block offsets [a, b), which must lie
// inside p.
func (p Piece) sub(a, b uint32) Piece {
	return Piece{Obj: p.Obj, ObjOff: p.ObjOff + (a - p.Off), Off: a, Len: b - a}
}

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

const objectKeyPrefix = "blocks/"

// ObjectKey is the object store key of object id.
func ObjectKey(id uint64) string {
	return fmt.Sprintf("blocks/%02x/%016x", id&0xff, id)
}

// ParseObjectKey is the inverse of ObjectKey: it accepts exactly the keys
// ObjectKey produces.
func ParseObjectKey(key string) (uint64, bool) {
	rest, ok := strings.CutPrefix(key, objectKeyPrefix)
	if !ok || len(rest) != 2+1+16 || rest[2] != '/' {
		return 0, false
	}
	id, err := strconv.ParseUint(rest[3:], 16, 64)
	if err != nil || ObjectKey(id) != key { // rejects upper case and a wrong shard
		return 0, false
	}
	return id, true
}

// Overlay lays p over the sorted, non-overlapping pieces and returns the
// result, sorted and non-overlapping. Pieces p shadows are trimmed or dropped.
// The input slice is not modified.
func Overlay(pieces []Piece, p Piece) []Piece {
	if p.Len == 0 {
		return slices.Clone(pieces)
	}
	return overlaySorted(pieces, []Piece{p})
}

// OverlayAll lays each piece of top over pieces, in order, and returns the
// result. It runs in linear time when top is sorted and non-overlapping.
// The input slices are not modified.
func OverlayAll(pieces, top []Piece) []Piece {
	if !sortedDisjoint(top) {
		out := slices.Clone(pieces)
		for _, p := range top {
			out = Overlay(out, p)
		}
		return out
	}
	return overlaySorted(pieces, top)
}

// sortedDisjoint reports whether ps is sorted by Off, without overlaps and
// without empty pieces.
func sortedDisjoint(ps []Piece) bool {
	for i, p := range ps {
		if p.Len == 0 || (i > 0 && ps[i-1].End() > p.Off) {
			return false
		}
	}
	return true
}

// overlaySorted lays top, sorted, non-overlapping and without empty pieces,
// over base in one merge pass.
func overlaySorted(base, top []Piece) []Piece {
	// The parts of base that top does not cover, in order.
	frags := make([]Piece, 0, len(base)+1)
	j := 0
	for _, q := range base {
		for j < len(top) && top[j].End() <= q.Off {
			j++
		}
		cur := q.Off
		for k := j; k < len(top) && top[k].Off < q.End(); k++ {
			if top[k].Off > cur {
				frags = append(frags, q.sub(cur, top[k].Off))
			}
			cur = max(cur, top[k].End())
		}
		if cur < q.End() {
			frags = append(frags, q.sub(cur, q.End()))
		}
	}
	// Merge the fragments and top, both sorted and disjoint from each other.
	out := make([]Piece, 0, len(frags)+len(top))
	i, k := 0, 0
	for i < len(frags) || k < len(top) {
		if k == len(top) || (i < len(frags) && frags[i].Off < top[k].Off) {
			out = append(out, frags[i])
			i++
		} else {
			out = append(out, top[k])
			k++
		}
	}
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
	out := make([]Piece, 0, len(pieces)+1)
	for _, q := range pieces {
		if q.End() <= off || q.Off >= end {
			out = append(out, q)
			continue
		}
		if q.Off < off {
			out = append(out, q.sub(q.Off, off))
		}
		if q.End() > end {
			out = append(out, q.sub(end, q.End()))
		}
	}
	return out
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
