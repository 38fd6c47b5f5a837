package etcdkv_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

// TestPhantomInvariant has workers on two stores keep a directory at no
// more than limit entries: each Update scans the directory and inserts an
// entry if there is room, else deletes one it saw. Only a check of the
// whole scanned range (inserts and deletes in it, not just the keys seen)
// keeps two Updates from both inserting into the last free place. With 5
// entries each scanned key is compared by itself; with 80 the delete epoch
// stands for them.
func TestPhantomInvariant(t *testing.T) {
	c := sharedCluster(t)
	for _, limit := range []int{5, 80} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			t.Parallel()
			url := c.URL(newPrefix("phantom"))
			stores := []kv.Store{openURL(t, url), openURL(t, url)}
			dir := []byte("dir/")
			// Start one short of full, so that inserts race for the last place.
			if err := stores[0].Update(t.Context(), func(tx kv.Txn) error {
				for i := range limit - 1 {
					tx.Set(fmt.Appendf(nil, "dir/init%03d", i), nil)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			const workers, ops = 4, 25
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), uint64(limit)))
					s := stores[w%2]
					for i := range ops {
						err := s.Update(t.Context(), func(tx kv.Txn) error {
							var seen [][]byte
							if err := tx.Scan(dir, kv.PrefixEnd(dir), func(k, _ []byte) bool {
								seen = append(seen, append([]byte(nil), k...))
								return true
							}); err != nil {
								return err
							}
							if len(seen) > limit {
								return fmt.Errorf("directory holds %d entries, over %d", len(seen), limit)
							}
							if len(seen) < limit {
								tx.Set(fmt.Appendf(nil, "dir/w%d-%03d", w, i), nil)
							} else if rng.IntN(3) == 0 {
								tx.Delete(seen[rng.IntN(len(seen))])
							}
							return nil
						})
						if err != nil {
							errs <- fmt.Errorf("worker %d, op %d: %w", w, i, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			n := 0
			if err := stores[0].View(t.Context(), func(r kv.Reader) error {
				return r.Scan(dir, kv.PrefixEnd(dir), func(_, _ []byte) bool { n++; return true })
			}); err != nil || n > limit {
				t.Fatalf("directory holds %d entries (%v), limit %d", n, err, limit)
			}
		})
	}
}
