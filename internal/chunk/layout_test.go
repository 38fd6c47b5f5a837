package chunk

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// pc builds a piece.
func pc(obj uint64, objOff, off, n uint32) Piece {
	return Piece{Obj: obj, ObjOff: objOff, Off: off, Len: n}
}

func TestOverlay(t *testing.T) {
	base := []Piece{pc(1, 0, 0, 10), pc(2, 5, 20, 10)}
	tests := []struct {
		name   string
		pieces []Piece
		p      Piece
		want   []Piece
	}{
		{"onto empty", nil, pc(9, 0, 3, 4), []Piece{pc(9, 0, 3, 4)}},
		{"empty piece changes nothing", base, pc(9, 0, 5, 0), base},
		{"in a hole", base, pc(9, 0, 12, 3), []Piece{pc(1, 0, 0, 10), pc(9, 0, 12, 3), pc(2, 5, 20, 10)}},
		{"exact cover", base, pc(9, 7, 0, 10), []Piece{pc(9, 7, 0, 10), pc(2, 5, 20, 10)}},
		{"middle splits", base, pc(9, 0, 3, 4), []Piece{pc(1, 0, 0, 3), pc(9, 0, 3, 4), pc(1, 7, 7, 3), pc(2, 5, 20, 10)}},
		{"left edge", base, pc(9, 0, 18, 5), []Piece{pc(1, 0, 0, 10), pc(9, 0, 18, 5), pc(2, 8, 23, 7)}},
		{"right edge", base, pc(9, 0, 8, 5), []Piece{pc(1, 0, 0, 8), pc(9, 0, 8, 5), pc(2, 5, 20, 10)}},
		{"spans both", base, pc(9, 0, 5, 20), []Piece{pc(1, 0, 0, 5), pc(9, 0, 5, 20), pc(2, 10, 25, 5)}},
		{"covers all", base, pc(9, 0, 0, 40), []Piece{pc(9, 0, 0, 40)}},
		{"adjacent stays separate", base, pc(9, 0, 10, 10), []Piece{pc(1, 0, 0, 10), pc(9, 0, 10, 10), pc(2, 5, 20, 10)}},
		{"past the end", base, pc(9, 0, 40, 1), []Piece{pc(1, 0, 0, 10), pc(2, 5, 20, 10), pc(9, 0, 40, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.pieces)
			got := Overlay(tt.pieces, tt.p)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Overlay(%v, %v) = %v, want %v", tt.pieces, tt.p, got, tt.want)
			}
			if !slices.Equal(in, tt.pieces) {
				t.Errorf("Overlay modified its input: %v, was %v", tt.pieces, in)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	base := []Piece{pc(1, 0, 0, 10), pc(2, 5, 20, 10)}
	tests := []struct {
		n    uint32
		want []Piece
	}{
		{0, []Piece{}},
		{5, []Piece{pc(1, 0, 0, 5)}},
		{10, []Piece{pc(1, 0, 0, 10)}},
		{15, []Piece{pc(1, 0, 0, 10)}},
		{21, []Piece{pc(1, 0, 0, 10), pc(2, 5, 20, 1)}},
		{30, base},
		{1 << 20, base},
	}
	for _, tt := range tests {
		if got := Truncate(base, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("Truncate(%v, %d) = %v, want %v", base, tt.n, got, tt.want)
		}
	}
}

func TestPunch(t *testing.T) {
	base := []Piece{pc(1, 0, 0, 10), pc(2, 5, 20, 10)}
	tests := []struct {
		off, end uint32
		want     []Piece
	}{
		{5, 5, base},
		{7, 3, base},
		{10, 20, base},
		{0, 10, []Piece{pc(2, 5, 20, 10)}},
		{3, 6, []Piece{pc(1, 0, 0, 3), pc(1, 6, 6, 4), pc(2, 5, 20, 10)}},
		{8, 22, []Piece{pc(1, 0, 0, 8), pc(2, 7, 22, 8)}},
		{0, 100, []Piece{}},
		{25, 100, []Piece{pc(1, 0, 0, 10), pc(2, 5, 20, 5)}},
	}
	for _, tt := range tests {
		if got := Punch(base, tt.off, tt.end); !slices.Equal(got, tt.want) {
			t.Errorf("Punch(%v, %d, %d) = %v, want %v", base, tt.off, tt.end, got, tt.want)
		}
	}
	// An object id equal to any sentinel survives.
	odd := []Piece{pc(^uint64(0), 0, 0, 10)}
	if got, want := Punch(odd, 2, 4), []Piece{pc(^uint64(0), 0, 0, 2), pc(^uint64(0), 4, 4, 6)}; !slices.Equal(got, want) {
		t.Errorf("Punch(%v, 2, 4) = %v, want %v", odd, got, want)
	}
}

func TestDropped(t *testing.T) {
	tests := []struct {
		before, after []Piece
		want          []uint64
	}{
		{nil, nil, nil},
		{[]Piece{pc(1, 0, 0, 5)}, nil, []uint64{1}},
		{[]Piece{pc(3, 0, 0, 5), pc(1, 0, 5, 5), pc(2, 0, 10, 5)}, []Piece{pc(1, 2, 7, 1)}, []uint64{2, 3}},
		{[]Piece{pc(1, 0, 0, 5)}, []Piece{pc(1, 0, 0, 2), pc(4, 0, 2, 3)}, nil},
		{nil, []Piece{pc(4, 0, 2, 3)}, nil},
	}
	for _, tt := range tests {
		if got := Dropped(tt.before, tt.after); !slices.Equal(got, tt.want) {
			t.Errorf("Dropped(%v, %v) = %v, want %v", tt.before, tt.after, got, tt.want)
		}
	}
}

func TestParseObjectKey(t *testing.T) {
	tests := []struct {
		key string
		id  uint64
		ok  bool
	}{
		{ObjectKey(0), 0, true},
		{ObjectKey(1), 1, true},
		{ObjectKey(0x1234abcd), 0x1234abcd, true},
		{ObjectKey(^uint64(0)), ^uint64(0), true},
		{"blocks/cd/000000001234abcd", 0x1234abcd, true},
		{"blocks/cc/000000001234abcd", 0, false}, // wrong shard
		{"blocks/CD/000000001234ABCD", 0, false}, // upper case
		{"blocks/cd/1234abcd", 0, false},         // not padded
		{"blocks/cd/000000001234abcd/", 0, false},
		{"blocks/cd/000000001234abcg", 0, false},
		{"blocks/cd/+00000001234abcd", 0, false},
		{"blocks/cd000000001234abcd", 0, false},
		{"bloks/cd/000000001234abcd", 0, false},
		{"", 0, false},
		{"blocks/", 0, false},
	}
	for _, tt := range tests {
		id, ok := ParseObjectKey(tt.key)
		if id != tt.id || ok != tt.ok {
			t.Errorf("ParseObjectKey(%q) = %d, %v, want %d, %v", tt.key, id, ok, tt.id, tt.ok)
		}
	}
}

// TestOverlayAll checks OverlayAll against laying the pieces one at a time
// and against a byte map, on random layouts.
func TestOverlayAll(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0))
	const size = 64
	random := func(n int, obj uint64) []Piece {
		var ps []Piece
		for range n {
			off := rng.Uint32N(size)
			ps = append(ps, pc(obj, rng.Uint32N(100), off, rng.Uint32N(size-off)+1))
			obj++
		}
		return ps
	}
	// bytes maps each block offset to (object, object offset)+1, or 0.
	bytesOf := func(ps []Piece) [size][2]uint64 {
		var m [size][2]uint64
		for _, p := range ps {
			for i := range p.Len {
				m[p.Off+i] = [2]uint64{p.Obj + 1, uint64(p.ObjOff + i)}
			}
		}
		return m
	}
	for range 2000 {
		var base []Piece
		for _, p := range random(rng.IntN(6), 1) {
			base = Overlay(base, p)
		}
		top := random(rng.IntN(6), 100)
		if rng.IntN(2) == 0 { // make top sorted and disjoint
			var clean []Piece
			for _, p := range top {
				clean = Overlay(clean, p)
			}
			top = clean
		}
		want := slices.Clone(base)
		for _, p := range top {
			want = Overlay(want, p)
		}
		got := OverlayAll(base, top)
		if !slices.Equal(got, want) {
			t.Fatalf("OverlayAll(%v, %v) = %v, want %v", base, top, got, want)
		}
		if !sortedDisjoint(got) {
			t.Fatalf("OverlayAll(%v, %v) = %v: not sorted and disjoint", base, top, got)
		}
		flat := slices.Clone(base)
		flat = append(flat, top...)
		if bytesOf(got) != bytesOf(flat) {
			t.Fatalf("OverlayAll(%v, %v) = %v maps bytes wrongly", base, top, got)
		}
	}
}
