package kvtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func testLargeValues(t *testing.T, s kv.Store) {
	const size = 1 << 20
	vals := make([][]byte, 3)
	for i := range vals {
		vals[i] = randomBytes(uint64(i+1), size)
		key := fmt.Appendf(nil, "big/%d", i)
		if err := s.Update(t.Context(), func(tx kv.Txn) error {
			tx.Set(key, vals[i])
			return nil
		}); err != nil {
			t.Fatalf("Update(big/%d): %v", i, err)
		}
	}
	err := s.View(t.Context(), func(r kv.Reader) error {
		for i, want := range vals {
			got, err := r.Get(fmt.Appendf(nil, "big/%d", i))
			if err != nil {
				return err
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("big/%d: got %d bytes, want %d identical bytes", i, len(got), len(want))
			}
		}
		i := 0
		return r.Scan(nil, nil, func(k, v []byte) bool {
			if !bytes.Equal(v, vals[i]) {
				t.Errorf("scan %q: value differs", k)
			}
			i++
			return true
		})
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
}

// testLargeTxn commits one Update bigger than a typical write buffer.
func testLargeTxn(t *testing.T, s kv.Store) {
	const (
		n    = 12
		size = 1 << 20
	)
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		for i := range n {
			tx.Set(fmt.Appendf(nil, "txn/%02d", i), randomBytes(uint64(100+i), size))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	err = s.View(t.Context(), func(r kv.Reader) error {
		for i := range n {
			got, err := r.Get(fmt.Appendf(nil, "txn/%02d", i))
			if err != nil {
				return err
			}
			if !bytes.Equal(got, randomBytes(uint64(100+i), size)) {
				t.Fatalf("txn/%02d differs", i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
}

func testManyKeys(t *testing.T, s kv.Store) {
	const (
		total = 10000
		batch = 1000
	)
	keyOf := func(i int) []byte { return fmt.Appendf(nil, "many/%05d", i) }
	rng := rand.New(rand.NewPCG(1, 2))
	perm := rng.Perm(total) // insert in random order
	for b := 0; b < total; b += batch {
		err := s.Update(t.Context(), func(tx kv.Txn) error {
			for _, i := range perm[b : b+batch] {
				tx.Set(keyOf(i), fmt.Appendf(nil, "v%d", i))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
	}
	err := s.View(t.Context(), func(r kv.Reader) error {
		i := 0
		err := r.Scan(nil, nil, func(k, v []byte) bool {
			if !bytes.Equal(k, keyOf(i)) || string(v) != fmt.Sprintf("v%d", i) {
				t.Errorf("scan position %d: %q=%q", i, k, v)
				return false
			}
			i++
			return true
		})
		if err != nil {
			return err
		}
		if i != total {
			t.Fatalf("full scan saw %d keys, want %d", i, total)
		}
		sub := collect(t, r, keyOf(2000), keyOf(3000))
		if len(sub) != 1000 || sub[0].key != string(keyOf(2000)) || sub[999].key != string(keyOf(2999)) {
			t.Fatalf("sub-range scan: %d keys", len(sub))
		}
		n := 0
		if err := r.Scan(keyOf(5000), nil, func(_, _ []byte) bool { n++; return n < 10 }); err != nil {
			return err
		}
		if n != 10 {
			t.Fatalf("early stop saw %d keys, want 10", n)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	// Delete every other key in one Update and rescan.
	err = s.Update(t.Context(), func(tx kv.Txn) error {
		for i := 0; i < total; i += 2 {
			tx.Delete(keyOf(i))
		}
		n := 0
		if err := tx.Scan(nil, nil, func(k, _ []byte) bool { n++; return true }); err != nil {
			return err
		}
		if n != total/2 {
			t.Fatalf("scan in deleting txn saw %d keys, want %d", n, total/2)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(delete): %v", err)
	}
	if ps := scan(t, s, nil, nil); len(ps) != total/2 || ps[0].key != string(keyOf(1)) {
		t.Fatalf("after delete: %d keys, first %v", len(ps), ps[:1])
	}
}
