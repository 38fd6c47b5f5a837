package etcdkv_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/etcdkv"
)

// TestConflicts runs an Update that reads, lets another store on the same
// prefix commit a change in its first run, then writes; the Update must run
// again exactly when the change touched what it read, including keys that
// were missing and keys created or deleted inside a scanned range.
func TestConflicts(t *testing.T) {
	c := sharedCluster(t)
	many := func() []string {
		var kvs []string
		for i := range 100 {
			kvs = append(kvs, fmt.Sprintf("d/%03d", i), "v")
		}
		return kvs
	}()
	fullScan := func(tx kv.Txn) error {
		return tx.Scan([]byte("d/"), kv.PrefixEnd([]byte("d/")), func(_, _ []byte) bool { return true })
	}
	firstKey := func(tx kv.Txn) error {
		return tx.Scan([]byte("d/"), kv.PrefixEnd([]byte("d/")), func(_, _ []byte) bool { return false })
	}
	getX := func(tx kv.Txn) error {
		_, err := tx.Get([]byte("x"))
		if errors.Is(err, kv.ErrNotFound) {
			return nil
		}
		return err
	}
	cases := []struct {
		name      string
		initial   []string // key, value, ...
		read      func(kv.Txn) error
		interfere func(kv.Txn)
		runs      int
	}{
		{"missing key created", nil, getX, setOp("x", "1"), 2},
		{"read key changed", []string{"x", "0"}, getX, setOp("x", "1"), 2},
		{"read key deleted", []string{"x", "0"}, getX, delOp("x"), 2},
		{"read key rewritten same value", []string{"x", "0"}, getX, setOp("x", "0"), 2},
		{"other key changed", []string{"x", "0"}, getX, setOp("z", "1"), 1},
		{"key inserted in scanned range", []string{"d/a", "1", "d/c", "3"}, fullScan, setOp("d/b", "2"), 2},
		{"key changed in scanned range", []string{"d/a", "1", "d/c", "3"}, fullScan, setOp("d/c", "4"), 2},
		{"key deleted in scanned range", []string{"d/a", "1", "d/c", "3"}, fullScan, delOp("d/c"), 2},
		{"empty scanned range filled", nil, fullScan, setOp("d/a", "1"), 2},
		{"key deleted in a long scanned range", many, fullScan, delOp("d/050"), 2},
		{"key inserted in a long scanned range", many, fullScan, setOp("d/050a", "v"), 2},
		// Past 64 passed keys one epoch stands for them: any deleting
		// commit conflicts, even one that deleted nothing that was there.
		{"delete of a missing key during a long scan", many, fullScan, delOp("d/x"), 2},
		{"key outside scanned range", []string{"d/a", "1"}, fullScan, setOp("e", "1"), 1},
		{"key past where the scan stopped", []string{"d/a", "1", "d/c", "3"}, firstKey, setOp("d/b", "2"), 1},
		{"key deleted past where the scan stopped", []string{"d/a", "1", "d/c", "3"}, firstKey, delOp("d/c"), 1},
		{"key inserted before where the scan stopped", []string{"d/b", "1"}, firstKey, setOp("d/a", "2"), 2},
		{"key where the scan stopped deleted", []string{"d/a", "1", "d/c", "3"}, firstKey, delOp("d/a"), 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := c.URL(newPrefix("conflict"))
			a, b := openURL(t, url), openURL(t, url)
			if len(tc.initial) > 0 {
				if err := b.Update(t.Context(), func(tx kv.Txn) error {
					for i := 0; i < len(tc.initial); i += 2 {
						tx.Set([]byte(tc.initial[i]), []byte(tc.initial[i+1]))
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			runs := 0
			err := a.Update(t.Context(), func(tx kv.Txn) error {
				runs++
				if err := tc.read(tx); err != nil {
					return err
				}
				if runs == 1 {
					if err := b.Update(t.Context(), func(tx kv.Txn) error { tc.interfere(tx); return nil }); err != nil {
						return fmt.Errorf("interfering update: %w", err)
					}
				}
				tx.Set([]byte("w"), fmt.Appendf(nil, "run %d", runs))
				return nil
			})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if runs != tc.runs {
				t.Fatalf("fn ran %d times, want %d", runs, tc.runs)
			}
			if v, err := a.Get(t.Context(), []byte("w")); err != nil || string(v) != fmt.Sprintf("run %d", runs) {
				t.Fatalf("w = %q, %v; want the last run's write", v, err)
			}
		})
	}
}

func setOp(k, v string) func(kv.Txn) { return func(tx kv.Txn) { tx.Set([]byte(k), []byte(v)) } }
func delOp(k string) func(kv.Txn)    { return func(tx kv.Txn) { tx.Delete([]byte(k)) } }

// TestWriteSkew runs two Updates that each read both keys and write one,
// interleaved so that both read before either commits: the second to
// commit must see the first's write, or the pair could break an invariant
// (here: at most one of x and y is set) that each checks.
func TestWriteSkew(t *testing.T) {
	c := sharedCluster(t)
	url := c.URL(newPrefix("skew"))
	a, b := openURL(t, url), openURL(t, url)
	claim := func(tx kv.Txn, mine string) (bool, error) {
		for _, k := range []string{"x", "y"} {
			if _, err := tx.Get([]byte(k)); err == nil {
				return false, nil
			} else if !errors.Is(err, kv.ErrNotFound) {
				return false, err
			}
		}
		tx.Set([]byte(mine), []byte("1"))
		return true, nil
	}
	runs := 0
	err := a.Update(t.Context(), func(tx kv.Txn) error {
		runs++
		if _, err := claim(tx, "x"); err != nil {
			return err
		}
		if runs == 1 {
			return b.Update(t.Context(), func(tx kv.Txn) error {
				_, err := claim(tx, "y")
				return err
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, errX := a.Get(t.Context(), []byte("x"))
	_, errY := a.Get(t.Context(), []byte("y"))
	if errX == nil && errY == nil {
		t.Fatalf("both x and y are set after %d runs: write skew", runs)
	}
	if runs != 2 {
		t.Fatalf("fn ran %d times, want 2", runs)
	}
}

// TestCompacted compacts the cluster's history past the revision a
// transaction reads at: the Update runs again at a newer revision, and a
// View fails with ErrCompacted.
func TestCompacted(t *testing.T) {
	c := sharedCluster(t)
	s := open(t, c, "compact")
	raw := c.Client(t)
	compact := func() {
		resp, err := raw.Put(t.Context(), newPrefix("compact-bump"), "x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Compact(t.Context(), resp.Header.Revision); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set([]byte("k"), []byte("1"))
		tx.Set([]byte("j"), []byte("1"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	runs := 0
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		runs++
		if _, err := tx.Get([]byte("k")); err != nil {
			return err
		}
		if runs == 1 {
			compact()
		}
		if _, err := tx.Get([]byte("j")); err != nil {
			return err
		}
		tx.Set([]byte("k"), []byte("2"))
		return nil
	})
	if err != nil || runs != 2 {
		t.Fatalf("Update across a compaction: %v after %d runs; want success after 2", err, runs)
	}
	err = s.View(t.Context(), func(r kv.Reader) error {
		if _, err := r.Get([]byte("k")); err != nil {
			return err
		}
		compact()
		_, err := r.Get([]byte("j"))
		return err
	})
	if !errors.Is(err, etcdkv.ErrCompacted) {
		t.Fatalf("View across a compaction = %v, want ErrCompacted", err)
	}
	t.Logf("view: %v", err)
}
