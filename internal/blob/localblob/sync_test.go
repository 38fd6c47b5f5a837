package localblob_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ferryfs/ferry/internal/blob/localblob"
)

// TestSyncConcurrentWithPuts runs Syncs while other goroutines Put; under
// -race this checks the pending list hand-over, and afterwards every object
// must be intact.
func TestSyncConcurrentWithPuts(t *testing.T) {
	for _, maxPending := range []int{0, 5} {
		t.Run(fmt.Sprintf("MaxPending=%d", maxPending), func(t *testing.T) {
			s := open(t, localblob.Options{MaxPending: maxPending, SyncParallelism: 3})
			ctx := context.Background()
			const putters, perPutter = 4, 40
			var (
				wg, syncWG sync.WaitGroup
				done       atomic.Bool
				syncs      atomic.Int64
			)
			errs := make(chan error, putters+2)
			for range 2 {
				syncWG.Go(func() {
					for i := 0; i < 1000 && !done.Load(); i++ {
						if err := s.Sync(ctx); err != nil {
							errs <- err
							return
						}
						syncs.Add(1)
					}
				})
			}
			for p := range putters {
				wg.Go(func() {
					for i := range perPutter {
						key := fmt.Sprintf("c/%02x/%d-%d", i%7, p, i)
						if err := s.Put(ctx, key, []byte(key)); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			done.Store(true)
			syncWG.Wait()
			if err := s.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if syncs.Load() == 0 {
				t.Fatal("no Sync ran")
			}
			for p := range putters {
				for i := range perPutter {
					key := fmt.Sprintf("c/%02x/%d-%d", i%7, p, i)
					b, err := s.Get(ctx, key, 0, -1)
					if err != nil || string(b) != key {
						t.Fatalf("Get(%q) = %q, %v", key, b, err)
					}
				}
			}
		})
	}
}
