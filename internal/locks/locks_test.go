package locks

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var (
	a  = Owner{Session: 1, ID: 10}
	a2 = Owner{Session: 1, ID: 11} // another owner of the same client
	b  = Owner{Session: 2, ID: 10} // same kernel id, another client
)

const eof = math.MaxInt64 // the kernel's OFFSET_MAX

func px(o Owner, t Type, start, end uint64) Lock {
	return Lock{Owner: o, Type: t, Start: start, End: end}
}

func fl(o Owner, t Type) Lock { return Lock{Owner: o, Flock: true, Type: t, Start: 0, End: Whole} }

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		held    Set
		req     Lock
		want    Set // the set after, sorted
		ok      bool
		blocker Lock
		changed bool
	}{
		{name: "first lock", req: px(a, Write, 0, 9), want: Set{px(a, Write, 0, 9)}, ok: true, changed: true},
		{name: "split by unlock", held: Set{px(a, Write, 0, 99)}, req: px(a, Unlock, 10, 19),
			want: Set{px(a, Write, 0, 9), px(a, Write, 20, 99)}, ok: true, changed: true},
		{name: "downgrade the middle", held: Set{px(a, Write, 0, 99)}, req: px(a, Read, 10, 19),
			want: Set{px(a, Write, 0, 9), px(a, Read, 10, 19), px(a, Write, 20, 99)}, ok: true, changed: true},
		{name: "merge adjacent", held: Set{px(a, Read, 0, 9), px(a, Read, 20, 29)}, req: px(a, Read, 10, 19),
			want: Set{px(a, Read, 0, 29)}, ok: true, changed: true},
		{name: "merge overlapping", held: Set{px(a, Read, 0, 9)}, req: px(a, Read, 5, 14),
			want: Set{px(a, Read, 0, 14)}, ok: true, changed: true},
		{name: "no merge across types", held: Set{px(a, Read, 0, 9)}, req: px(a, Write, 10, 19),
			want: Set{px(a, Read, 0, 9), px(a, Write, 10, 19)}, ok: true, changed: true},
		{name: "upgrade covering", held: Set{px(a, Read, 5, 9), px(a, Read, 20, 30)}, req: px(a, Write, 0, 50),
			want: Set{px(a, Write, 0, 50)}, ok: true, changed: true},
		{name: "to eof", held: Set{px(a, Read, 100, eof)}, req: px(a, Unlock, 200, eof),
			want: Set{px(a, Read, 100, 199)}, ok: true, changed: true},
		{name: "whole range merges", held: Set{px(a, Write, 0, Whole)}, req: px(a, Write, 10, 19),
			want: Set{px(a, Write, 0, Whole)}, ok: true, changed: false},
		{name: "unlock at the top of the range", held: Set{px(a, Write, 0, Whole)}, req: px(a, Unlock, Whole, Whole),
			want: Set{px(a, Write, 0, Whole-1)}, ok: true, changed: true},
		{name: "lock the last byte", req: px(a, Read, Whole, Whole), want: Set{px(a, Read, Whole, Whole)}, ok: true, changed: true},
		{name: "unlock of nothing", held: Set{px(b, Write, 0, 9)}, req: px(a, Unlock, 0, eof),
			want: Set{px(b, Write, 0, 9)}, ok: true},
		{name: "readers share", held: Set{px(b, Read, 0, 9)}, req: px(a, Read, 5, 14),
			want: Set{px(a, Read, 5, 14), px(b, Read, 0, 9)}, ok: true, changed: true},
		{name: "writer conflicts with reader", held: Set{px(b, Read, 0, 9)}, req: px(a, Write, 9, 14),
			want: Set{px(b, Read, 0, 9)}, blocker: px(b, Read, 0, 9)},
		{name: "conflict leaves own locks as they were", held: Set{px(a, Read, 0, 99), px(b, Read, 50, 59)}, req: px(a, Write, 0, 99),
			want: Set{px(a, Read, 0, 99), px(b, Read, 50, 59)}, blocker: px(b, Read, 50, 59)},
		{name: "same kernel id, other session", held: Set{px(b, Write, 0, 9)}, req: px(a, Write, 0, 9),
			want: Set{px(b, Write, 0, 9)}, blocker: px(b, Write, 0, 9)},
		{name: "other owner of the same client", held: Set{px(a2, Write, 0, 9)}, req: px(a, Read, 0, 0),
			want: Set{px(a2, Write, 0, 9)}, blocker: px(a2, Write, 0, 9)},
		{name: "disjoint ranges", held: Set{px(b, Write, 0, 9)}, req: px(a, Write, 10, 19),
			want: Set{px(a, Write, 10, 19), px(b, Write, 0, 9)}, ok: true, changed: true},
		{name: "flock and posix are independent", held: Set{fl(b, Write)}, req: px(a, Write, 0, eof),
			want: Set{px(a, Write, 0, eof), fl(b, Write)}, ok: true, changed: true},
		{name: "flock exclusive", held: Set{fl(b, Write)}, req: fl(a, Read),
			want: Set{fl(b, Write)}, blocker: fl(b, Write)},
		{name: "flock shared", held: Set{fl(b, Read)}, req: fl(a, Read),
			want: Set{fl(a, Read), fl(b, Read)}, ok: true, changed: true},
		{name: "flock upgrade", held: Set{fl(a, Read)}, req: fl(a, Write), want: Set{fl(a, Write)}, ok: true, changed: true},
		{name: "flock failed upgrade drops the old lock", held: Set{fl(a, Read), fl(b, Read)}, req: fl(a, Write),
			want: Set{fl(b, Read)}, blocker: fl(b, Read), changed: true},
		{name: "flock request range ignored", held: Set{fl(a, Read)}, req: Lock{Owner: a, Flock: true, Type: Unlock, Start: 5, End: 6},
			want: nil, ok: true, changed: true},
		{name: "flock again", held: Set{fl(a, Write)}, req: fl(a, Write), want: Set{fl(a, Write)}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			held := slices.Clone(tt.held)
			next, blocker, ok, changed := tt.held.Apply(tt.req)
			if !slices.Equal(tt.held, held) {
				t.Fatalf("Apply changed its receiver: %v", tt.held)
			}
			next = next.sorted()
			want := tt.want.sorted()
			if !slices.Equal(next, want) || ok != tt.ok || blocker != tt.blocker || changed != tt.changed {
				t.Fatalf("Apply(%v) on %v:\n got %v blocker %v ok %v changed %v\nwant %v blocker %v ok %v changed %v",
					tt.req, tt.held, next, blocker, ok, changed, want, tt.blocker, tt.ok, tt.changed)
			}
		})
	}
}

func TestConflict(t *testing.T) {
	held := Set{px(b, Write, 100, 199), px(a, Read, 0, 49), fl(b, Write)}
	tests := []struct {
		req  Lock
		want Lock
		ok   bool
	}{
		{px(a, Write, 0, 99), Lock{}, false},
		{px(a, Read, 150, 150), px(b, Write, 100, 199), true},
		{px(b, Write, 0, 0), px(a, Read, 0, 49), true},
		{px(b, Read, 0, 0), Lock{}, false},
		{px(a2, Write, 200, eof), Lock{}, false},
		{fl(a, Read), fl(b, Write), true},
		{fl(b, Write), Lock{}, false},
	}
	for _, tt := range tests {
		got, ok := held.Conflict(tt.req)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Conflict(%v) = %v %v, want %v %v", tt.req, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDropSession(t *testing.T) {
	s := Set{px(a, Write, 0, 9), fl(a2, Read), px(b, Read, 0, 9)}
	next, changed := s.DropSessions(func(s uint64) bool { return s == 1 })
	if !changed || !slices.Equal(next, Set{px(b, Read, 0, 9)}) || !s.Held(1) || next.Held(1) || !next.Held(2) {
		t.Fatalf("DropSessions(session 1) = %v %v", next, changed)
	}
	if _, changed := next.DropSessions(func(s uint64) bool { return s == 1 }); changed {
		t.Fatal("dropping a session without locks changed the set")
	}
}

func TestCheck(t *testing.T) {
	for _, l := range []Lock{{Type: 0}, {Type: 4}, {Type: Read, Start: 2, End: 1}} {
		if err := l.Check(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%v) = %v, want ErrInvalid", l, err)
		}
	}
	if err := px(a, Unlock, 0, Whole).Check(); err != nil {
		t.Errorf("Check of an unlock: %v", err)
	}
}

func TestEncode(t *testing.T) {
	s := Set{px(a, Write, 0, 9), fl(b, Read), {Owner: Owner{math.MaxUint64, math.MaxUint64}, Type: Read, Start: Whole, End: Whole, Pid: math.MaxUint32}}
	got, err := Decode(s.Encode())
	if err != nil || !slices.Equal(got, s) {
		t.Fatalf("Decode(Encode(%v)) = %v, %v", s, got, err)
	}
	if got, err := Decode(Set(nil).Encode()); err != nil || len(got) != 0 {
		t.Fatalf("empty set: %v, %v", got, err)
	}
	bad := [][]byte{nil, {2}, append(s.Encode(), 0)}
	unlock := Set{px(a, Unlock, 0, 1)}.Encode()
	flags := Set{px(a, Read, 0, 1)}.Encode()
	flags[len(flags)-1] = 2
	backwards := Set{px(a, Read, 5, 1)}.Encode()
	for _, p := range append(bad, unlock, flags, backwards) {
		if _, err := Decode(p); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Decode(%x) = %v, want ErrCorrupt", p, err)
		}
	}
}

// TestModel applies random requests of three owners on a byte map and on
// a Set: each byte's holders must agree, and one owner's locks of one
// kind never overlap or touch with the same type.
func TestModel(t *testing.T) {
	const size = 24
	seed := rand.Uint64()
	r := rand.New(rand.NewPCG(seed, 0))
	owners := []Owner{a, a2, b}
	for trial := range 200 {
		var s Set
		model := map[Owner]*[size]Type{}
		for _, o := range owners {
			model[o] = new([size]Type)
		}
		for range 30 {
			o := owners[r.IntN(len(owners))]
			start := uint64(r.IntN(size))
			end := start + uint64(r.IntN(size-int(start)))
			typ := Type(1 + r.IntN(3))
			req := px(o, typ, start, end)
			next, _, ok, _ := s.Apply(req)
			free := true
			for _, other := range owners {
				if other == o {
					continue
				}
				for i := start; i <= end; i++ {
					if h := model[other][i]; h != 0 && (h == Write || typ == Write) && typ != Unlock {
						free = false
					}
				}
			}
			if ok != free {
				t.Fatalf("seed %d trial %d: Apply(%v) on %v: ok %v, model says %v", seed, trial, req, s, ok, free)
			}
			if ok {
				for i := start; i <= end; i++ {
					model[o][i] = typ
					if typ == Unlock {
						model[o][i] = 0
					}
				}
			}
			s = next
			for _, own := range owners {
				var got [size]Type
				for _, l := range s {
					if l.Owner != own {
						continue
					}
					for i := l.Start; i <= l.End; i++ {
						if got[i] != 0 {
							t.Fatalf("seed %d: overlapping locks of %v in %v", seed, own, s)
						}
						got[i] = l.Type
					}
					for _, m := range s {
						if m.Owner == own && m.Type == l.Type && m.Start == l.End+1 {
							t.Fatalf("seed %d: unmerged neighbours of %v in %v", seed, own, s)
						}
					}
				}
				if got != *model[own] {
					t.Fatalf("seed %d trial %d: %v holds %v, model %v (set %v)", seed, trial, own, got, *model[own], s)
				}
			}
		}
	}
}
