package pebblekv_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/pebblekv"
)

func put(t *testing.T, s kv.Store, kvs ...string) {
	t.Helper()
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		for i := 0; i < len(kvs); i += 2 {
			tx.Set([]byte(kvs[i]), []byte(kvs[i+1]))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// dump returns every key/value pair of s as "k=v" strings in order.
func dump(t *testing.T, s kv.Store) []string {
	t.Helper()
	var out []string
	err := s.View(t.Context(), func(r kv.Reader) error {
		return r.Scan(nil, nil, func(k, v []byte) bool {
			out = append(out, string(k)+"="+string(v))
			return true
		})
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return out
}

func TestReopenDisk(t *testing.T) {
	dir := t.TempDir()
	s, err := pebblekv.Open(dir, pebblekv.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	put(t, s, "a", "1", "b", "2")
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2 := mustOpen(t, dir, pebblekv.Options{})
	if got := dump(t, s2); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Fatalf("after reopen: %q", got)
	}
}

// TestSyncedSurvivesCrash takes a crash image of the file system right after
// Sync, with every unsynced byte dropped, and checks that the image opens
// and holds what was synced.
func TestSyncedSurvivesCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := mustOpen(t, "db", pebblekv.Options{FS: fs})
	put(t, s, "synced", "yes")
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	put(t, s, "unsynced", "maybe")
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})

	s2 := mustOpen(t, "db", pebblekv.Options{FS: crashed})
	got := dump(t, s2)
	if len(got) != 1 || got[0] != "synced=yes" {
		t.Fatalf("after crash: %q, want [synced=yes]", got)
	}
	// The recovered store keeps working and its own syncs hold.
	put(t, s2, "after", "crash")
	if err := s2.Sync(t.Context()); err != nil {
		t.Fatalf("Sync after recovery: %v", err)
	}
	again := mustOpen(t, "db", pebblekv.Options{FS: crashed.CrashClone(vfs.CrashCloneCfg{})})
	if got := dump(t, again); len(got) != 2 || got[0] != "after=crash" {
		t.Fatalf("after second crash: %q", got)
	}
}

// crashModel is the state after the first n commits of the crash workload:
// commit i sets seq=i and k/i, and deletes k/(i-3).
func crashModel(n int, value func(i int) string) []string {
	m := map[int]bool{}
	for i := 1; i <= n; i++ {
		m[i] = true
		delete(m, i-3)
	}
	var out []string
	for i := 1; i <= n; i++ {
		if m[i] {
			out = append(out, fmt.Sprintf("k/%05d=%s", i, value(i)))
		}
	}
	if n > 0 {
		out = append(out, fmt.Sprintf("seq=%05d", n))
	}
	return out
}

// TestCrashRecoversCommittedPrefix runs many small commits with Syncs at
// random points through several memtable rotations, takes a crash image
// that keeps none, some or all of the unsynced writes, and checks that the
// recovered store is exactly the state after some prefix of the commits
// that includes every synced one: no torn transaction, no reordering.
func TestCrashRecoversCommittedPrefix(t *testing.T) {
	const commits = 400
	for seed := uint64(1); seed <= 6; seed++ {
		keep := []int{0, 50, 90, 100}[seed%4]
		t.Run(fmt.Sprintf("seed%d-keep%d", seed, keep), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 99))
			value := func(i int) string {
				return fmt.Sprintf("%d-%s", i, bytes.Repeat([]byte{'v'}, 200+i%700))
			}
			fs := vfs.NewCrashableMem()
			opts := pebblekv.Options{FS: fs, MemTableBytes: 256 << 10}
			s, err := pebblekv.Open("db", opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			synced := 0
			for i := 1; i <= commits; i++ {
				err := s.Update(t.Context(), func(tx kv.Txn) error {
					tx.Set([]byte("seq"), fmt.Appendf(nil, "%05d", i))
					tx.Set(fmt.Appendf(nil, "k/%05d", i), []byte(value(i)))
					tx.Delete(fmt.Appendf(nil, "k/%05d", i-3))
					return nil
				})
				if err != nil {
					t.Fatalf("Update %d: %v", i, err)
				}
				if i <= commits/2 && rng.IntN(40) == 0 { // leave a long unsynced tail
					if err := s.Sync(t.Context()); err != nil {
						t.Fatalf("Sync: %v", err)
					}
					synced = i
				}
			}
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: keep, RNG: rand.New(rand.NewPCG(seed, 7))})
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			s2 := mustOpen(t, "db", pebblekv.Options{FS: crashed, MemTableBytes: 256 << 10})
			got := dump(t, s2)
			n := 0
			if len(got) > 0 {
				if _, err := fmt.Sscanf(got[len(got)-1], "seq=%d", &n); err != nil {
					t.Fatalf("last key is %.20q, want seq=N", got[len(got)-1])
				}
			}
			if n < synced {
				t.Fatalf("recovered %d commits, but %d were synced", n, synced)
			}
			want := crashModel(n, value)
			if len(got) != len(want) {
				t.Fatalf("recovered %d pairs, want %d for prefix %d", len(got), len(want), n)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("pair %d = %.40q, want %.40q (prefix %d)", i, got[i], want[i], n)
				}
			}
			t.Logf("synced %d, recovered %d of %d commits", synced, n, commits)
		})
	}
}
