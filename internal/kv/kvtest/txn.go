package kvtest

import (
	"errors"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

// testReadYourWrites checks that Get and Scan inside an Update observe the
// transaction's own Sets and Deletes merged, in order, with committed data.
func testReadYourWrites(t *testing.T, s kv.Store) {
	set(t, s, "b", "B", "d", "D", "f", "F", "h", "H")
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set([]byte("a"), []byte("new-a")) // before every committed key
		tx.Set([]byte("d"), []byte("new-d")) // overwrite
		tx.Delete([]byte("f"))               // hide a committed key
		tx.Set([]byte("e"), []byte("new-e")) // between committed keys
		tx.Set([]byte("z"), []byte("new-z")) // after every committed key
		tx.Delete([]byte("missing"))         // no-op

		readValue(t, tx, "a", "new-a")
		readValue(t, tx, "b", "B")
		readValue(t, tx, "d", "new-d")
		readValue(t, tx, "e", "new-e")
		readMissing(t, tx, "f")
		readMissing(t, tx, "missing")

		wantPairs(t, "txn full scan", collect(t, tx, nil, nil), []pair{
			{"a", "new-a"}, {"b", "B"}, {"d", "new-d"}, {"e", "new-e"}, {"h", "H"}, {"z", "new-z"},
		})
		wantPairs(t, "txn bounded scan", collect(t, tx, []byte("c"), []byte("h")), []pair{
			{"d", "new-d"}, {"e", "new-e"},
		})
		wantPairs(t, "txn scan over deleted", collect(t, tx, []byte("f"), []byte("g")), nil)

		// Writes after a scan are seen by the next scan.
		tx.Delete([]byte("a"))
		tx.Set([]byte("c"), []byte("new-c"))
		wantPairs(t, "txn rescan", collect(t, tx, nil, []byte("e")), []pair{
			{"b", "B"}, {"c", "new-c"}, {"d", "new-d"},
		})
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantPairs(t, "after commit", scan(t, s, nil, nil), []pair{
		{"b", "B"}, {"c", "new-c"}, {"d", "new-d"}, {"e", "new-e"}, {"h", "H"}, {"z", "new-z"},
	})
}

func testSetThenDelete(t *testing.T, s kv.Store) {
	set(t, s, "committed", "1")
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set([]byte("fresh"), []byte("x"))
		tx.Delete([]byte("fresh"))
		readMissing(t, tx, "fresh")

		tx.Delete([]byte("committed"))
		tx.Set([]byte("committed"), []byte("2"))
		readValue(t, tx, "committed", "2")

		tx.Set([]byte("twice"), []byte("first"))
		tx.Set([]byte("twice"), []byte("second"))
		readValue(t, tx, "twice", "second")
		wantPairs(t, "txn scan", collect(t, tx, nil, nil), []pair{{"committed", "2"}, {"twice", "second"}})
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantMissing(t, s, "fresh")
	wantValue(t, s, "committed", "2")
	wantValue(t, s, "twice", "second")
}

var errBoom = errors.New("kvtest: boom")

func testErrorDiscards(t *testing.T, s kv.Store) {
	set(t, s, "keep", "1", "gone", "2")
	calls := 0
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		calls++
		tx.Set([]byte("keep"), []byte("changed"))
		tx.Delete([]byte("gone"))
		tx.Set([]byte("new"), []byte("3"))
		return errBoom
	})
	if err != errBoom { // the contract is "returned unchanged", so compare identity
		t.Fatalf("Update = %v, want errBoom unchanged", err)
	}
	if calls != 1 {
		t.Fatalf("fn called %d times, want 1", calls)
	}
	wantPairs(t, "after failed update", scan(t, s, nil, nil), []pair{{"gone", "2"}, {"keep", "1"}})

	// A read-only Update that succeeds changes nothing either.
	if err := s.Update(t.Context(), func(tx kv.Txn) error {
		readValue(t, tx, "keep", "1")
		return nil
	}); err != nil {
		t.Fatalf("read-only Update: %v", err)
	}
	wantPairs(t, "after read-only update", scan(t, s, nil, nil), []pair{{"gone", "2"}, {"keep", "1"}})
}

// testPanicReleases checks that a panicking fn leaves no lock behind and
// commits nothing.
func testPanicReleases(t *testing.T, s kv.Store) {
	set(t, s, "k", "1")
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Fatalf("Update did not propagate the panic")
			}
		}()
		_ = s.Update(t.Context(), func(tx kv.Txn) error {
			tx.Set([]byte("k"), []byte("2"))
			panic("kvtest: panic in fn")
		})
	}()
	set(t, s, "after", "ok")
	wantValue(t, s, "k", "1")
	wantValue(t, s, "after", "ok")
}

func testBuffersCopied(t *testing.T, s kv.Store) {
	key := []byte("copy/a")
	val := []byte("value-1")
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set(key, val)
		key[len(key)-1] = 'b'
		copy(val, "XXXXXXX")
		readValue(t, tx, "copy/a", "value-1")
		readMissing(t, tx, "copy/b")
		tx.Set(key, val) // now copy/b = XXXXXXX
		key[len(key)-1] = 'c'
		val[0] = 'Y'
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, s, "copy/a", "value-1")
	wantValue(t, s, "copy/b", "XXXXXXX")
	wantMissing(t, s, "copy/c")

	// Delete copies its key too.
	dkey := []byte("copy/a")
	err = s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Delete(dkey)
		dkey[len(dkey)-1] = 'b'
		readMissing(t, tx, "copy/a")
		readValue(t, tx, "copy/b", "XXXXXXX")
		return nil
	})
	if err != nil {
		t.Fatalf("Update(delete): %v", err)
	}
	wantMissing(t, s, "copy/a")
	wantValue(t, s, "copy/b", "XXXXXXX")
}

// testViewSnapshot checks that a View keeps reading the state it started on
// while another Update commits.
func testViewSnapshot(t *testing.T, s kv.Store) {
	set(t, s, "a", "old", "c", "old-c")
	old := []pair{{"a", "old"}, {"c", "old-c"}}
	err := s.View(t.Context(), func(r kv.Reader) error {
		readValue(t, r, "a", "old")
		done := make(chan error, 1)
		go func() {
			done <- s.Update(t.Context(), func(tx kv.Txn) error {
				tx.Set([]byte("a"), []byte("new"))
				tx.Set([]byte("b"), []byte("inserted"))
				tx.Delete([]byte("c"))
				return nil
			})
		}()
		if err := <-done; err != nil {
			t.Fatalf("concurrent Update: %v", err)
		}
		// The commit is visible to a new View...
		wantValue(t, s, "a", "new")
		// ...but not to this one.
		readValue(t, r, "a", "old")
		readMissing(t, r, "b")
		readValue(t, r, "c", "old-c")
		wantPairs(t, "scan in old view", collect(t, r, nil, nil), old)
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	wantPairs(t, "scan after", scan(t, s, nil, nil), []pair{{"a", "new"}, {"b", "inserted"}})
}
