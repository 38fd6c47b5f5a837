package kvtest

import (
	"bytes"
	"errors"
	"sort"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

func testGetSetDelete(t *testing.T, s kv.Store) {
	wantMissing(t, s, "a")
	set(t, s, "a", "1", "b", "2")
	wantValue(t, s, "a", "1")
	wantValue(t, s, "b", "2")

	set(t, s, "a", "one")
	wantValue(t, s, "a", "one")

	err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Delete([]byte("a"))
		tx.Delete([]byte("never-existed"))
		return nil
	})
	if err != nil {
		t.Fatalf("Update(delete): %v", err)
	}
	wantMissing(t, s, "a")
	wantMissing(t, s, "never-existed")
	wantValue(t, s, "b", "2")

	// A Get that misses must report exactly the sentinel kind.
	_, gerr := get(t, s, "a")
	if !errors.Is(gerr, kv.ErrNotFound) {
		t.Fatalf("Get(missing) = %v, want ErrNotFound", gerr)
	}
}

func testEmptyValue(t *testing.T, s kv.Store) {
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set([]byte("empty"), []byte{})
		tx.Set([]byte("nil"), nil)
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	for _, k := range []string{"empty", "nil"} {
		v, err := get(t, s, k)
		if err != nil || len(v) != 0 {
			t.Fatalf("Get(%q) = %q, %v; want empty value", k, v, err)
		}
	}
	wantPairs(t, "scan", scan(t, s, nil, nil), []pair{{"empty", ""}, {"nil", ""}})
}

func testGetReturnsCopy(t *testing.T, s kv.Store) {
	set(t, s, "k", "value")
	err := s.View(t.Context(), func(r kv.Reader) error {
		v, err := r.Get([]byte("k"))
		if err != nil {
			return err
		}
		for i := range v {
			v[i] = 'X'
		}
		readValue(t, r, "k", "value")
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	wantValue(t, s, "k", "value")
}

func testScanBounds(t *testing.T, s kv.Store) {
	set(t, s, "a", "1", "b", "2", "c", "3", "d", "4")
	all := []pair{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}
	cases := []struct {
		name       string
		start, end []byte
		want       []pair
	}{
		{"all", nil, nil, all},
		{"empty start", []byte{}, nil, all},
		{"half open", []byte("b"), []byte("d"), all[1:3]},
		{"start between keys", []byte("bb"), []byte("d"), all[2:3]},
		{"end between keys", []byte("a"), []byte("cc"), all[0:3]},
		{"nil end", []byte("c"), nil, all[2:]},
		{"nil start", nil, []byte("c"), all[:2]},
		{"start past last", []byte("e"), nil, nil},
		{"empty range", []byte("b"), []byte("b"), nil},
		{"inverted range", []byte("d"), []byte("b"), nil},
		{"end at first", nil, []byte("a"), nil},
	}
	for _, c := range cases {
		wantPairs(t, c.name, scan(t, s, c.start, c.end), c.want)
	}
}

// binaryKeys are keys that are prefixes of one another and use the extreme
// byte values, where naive string or length-first ordering goes wrong.
var binaryKeys = [][]byte{
	{0x00},
	{0x00, 0x00},
	{0x00, 0xff},
	{0x01},
	{0x7f},
	{0x80},
	{0xfe, 0xff},
	{0xff},
	{0xff, 0x00},
	{0xff, 0xff},
	{0xff, 0xff, 0xff},
	[]byte("a"),
	[]byte("a\x00"),
	[]byte("ab"),
	[]byte("a\xff"),
}

func testBinaryOrder(t *testing.T, s kv.Store) {
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		// Insert in reverse so insertion order cannot masquerade as key order.
		for i := len(binaryKeys) - 1; i >= 0; i-- {
			tx.Set(binaryKeys[i], append([]byte("v"), binaryKeys[i]...))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	sorted := make([][]byte, len(binaryKeys))
	copy(sorted, binaryKeys)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	var want []pair
	for _, k := range sorted {
		want = append(want, pair{string(k), "v" + string(k)})
	}
	got := scan(t, s, nil, nil)
	wantPairs(t, "full scan", got, want)
	checkSorted(t, "full scan", got)

	// [0x00, 0x01) holds exactly the keys starting with 0x00.
	wantPairs(t, "0x00 range", scan(t, s, []byte{0x00}, []byte{0x01}), want[:3])
	// [0xff, nil) holds exactly the keys starting with 0xff.
	var ff []pair
	for _, p := range want {
		if p.key[0] == 0xff {
			ff = append(ff, p)
		}
	}
	wantPairs(t, "0xff tail", scan(t, s, []byte{0xff}, nil), ff)
	// An end bound equal to a key excludes it, and its extensions sort after it.
	wantPairs(t, "end excludes", scan(t, s, []byte{0x00}, []byte{0x00, 0x00}), want[:1])
	for _, k := range binaryKeys {
		wantValue(t, s, string(k), "v"+string(k))
	}
	// Prefixes and extensions of stored keys are different keys.
	for _, k := range []string{"\x00\x00\x00", "\x00\x01", "\xff\xff\xff\xff", "\xfe", "a\x00\x00", "b", "\x02"} {
		wantMissing(t, s, k)
	}
}

func testPrefixScan(t *testing.T, s kv.Store) {
	set(t, s,
		"o\xff", "before",
		"p", "p",
		"p\x00", "p0",
		"p\xff", "pff",
		"p\xff\xff", "pffff",
		"q", "after",
		"\xff\xff", "top",
		"\xff\xff\x00", "top0",
	)
	p := []byte("p")
	wantPairs(t, "prefix p", scan(t, s, p, kv.PrefixEnd(p)),
		[]pair{{"p", "p"}, {"p\x00", "p0"}, {"p\xff", "pff"}, {"p\xff\xff", "pffff"}})
	top := []byte("\xff\xff")
	if kv.PrefixEnd(top) != nil {
		t.Fatalf("PrefixEnd(ffff) = %q, want nil", kv.PrefixEnd(top))
	}
	wantPairs(t, "prefix ffff", scan(t, s, top, kv.PrefixEnd(top)),
		[]pair{{"\xff\xff", "top"}, {"\xff\xff\x00", "top0"}})
}

func testEarlyStop(t *testing.T, s kv.Store) {
	set(t, s, "a", "1", "b", "2", "c", "3", "d", "4")
	check := func(r kv.Reader) {
		var seen []string
		err := r.Scan(nil, nil, func(k, v []byte) bool {
			seen = append(seen, string(k))
			return len(seen) < 2
		})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		if len(seen) != 2 || seen[0] != "a" || seen[1] != "b" {
			t.Fatalf("early stop saw %q, want [a b]", seen)
		}
	}
	if err := s.View(t.Context(), func(r kv.Reader) error { check(r); return nil }); err != nil {
		t.Fatalf("View: %v", err)
	}
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set([]byte("a0"), []byte("x"))
		var seen []string
		err := tx.Scan(nil, nil, func(k, v []byte) bool {
			seen = append(seen, string(k))
			return len(seen) < 2
		})
		if err != nil {
			return err
		}
		if len(seen) != 2 || seen[0] != "a" || seen[1] != "a0" {
			t.Fatalf("early stop in txn saw %q, want [a a0]", seen)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// testNestedReads checks that Get may be called from inside a Scan callback,
// as a directory listing that loads each entry's inode does.
func testNestedReads(t *testing.T, s kv.Store) {
	set(t, s, "d/a", "i/1", "d/b", "i/2", "i/1", "one", "i/2", "two")
	walk := func(r kv.Reader) []string {
		var got []string
		err := r.Scan([]byte("d/"), kv.PrefixEnd([]byte("d/")), func(k, v []byte) bool {
			iv, err := r.Get(v)
			if err != nil {
				t.Errorf("nested Get(%q): %v", v, err)
				return false
			}
			got = append(got, string(k)+"="+string(iv))
			// A nested scan too.
			n := 0
			if err := r.Scan([]byte("i/"), nil, func(_, _ []byte) bool { n++; return true }); err != nil || n < 2 {
				t.Errorf("nested Scan: n=%d err=%v", n, err)
				return false
			}
			return true
		})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		return got
	}
	check := func(what string, got []string, want ...string) {
		if len(got) != len(want) {
			t.Fatalf("%s: got %q, want %q", what, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: got %q, want %q", what, got, want)
			}
		}
	}
	if err := s.View(t.Context(), func(r kv.Reader) error {
		check("view", walk(r), "d/a=one", "d/b=two")
		return nil
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	if err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set([]byte("i/2"), []byte("TWO"))
		tx.Set([]byte("d/c"), []byte("i/3"))
		tx.Set([]byte("i/3"), []byte("three"))
		check("txn", walk(tx), "d/a=one", "d/b=TWO", "d/c=three")
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
}
