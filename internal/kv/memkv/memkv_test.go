package memkv_test

import (
	"sync"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/kvtest"
	"github.com/ferryfs/ferry/internal/kv/memkv"
)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store {
		s := memkv.New()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestConcurrentViews runs many Views at once. Each View clones the
// published tree, and cloning writes the source tree's copy-on-write
// context, so under -race this fails if Views clone without exclusion.
func TestConcurrentViews(t *testing.T) {
	s := memkv.New()
	defer s.Close()
	if err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set([]byte("k"), []byte("v"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				if err := s.View(t.Context(), func(r kv.Reader) error {
					_, err := r.Get([]byte("k"))
					return err
				}); err != nil {
					errs <- err
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
}
