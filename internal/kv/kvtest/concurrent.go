package kvtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

const (
	workers      = 8
	opsPerWorker = 50
)

// readUint reads a little-endian uint64 counter, 0 when absent.
func readUint(r kv.Reader, key []byte) (uint64, error) {
	v, err := r.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("counter %q has %d bytes", key, len(v))
	}
	return binary.LittleEndian.Uint64(v), nil
}

func putUint(tx kv.Txn, key []byte, n uint64) {
	tx.Set(key, binary.LittleEndian.AppendUint64(nil, n))
}

// increment runs one read-increment-write Update of key.
func increment(t *testing.T, s kv.Store, key []byte) error {
	return s.Update(t.Context(), func(tx kv.Txn) error {
		n, err := readUint(tx, key)
		if err != nil {
			return err
		}
		putUint(tx, key, n+1)
		return nil
	})
}

// runWorkers runs fn(worker) in parallel and fails the test on any error.
func runWorkers(t *testing.T, n int, fn func(w int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- fn(w)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// testCounterSerializable: lost updates would leave the counter short.
func testCounterSerializable(t *testing.T, s kv.Store) {
	key := []byte("counter")
	runWorkers(t, workers, func(int) error {
		for range opsPerWorker {
			if err := increment(t, s, key); err != nil {
				return fmt.Errorf("increment: %w", err)
			}
		}
		return nil
	})
	var got uint64
	if err := s.View(t.Context(), func(r kv.Reader) (err error) {
		got, err = readUint(r, key)
		return err
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
	if want := uint64(workers * opsPerWorker); got != want {
		t.Fatalf("counter = %d, want %d", got, want)
	}
}

func testDisjointCounters(t *testing.T, s kv.Store) {
	keyOf := func(w int) []byte { return fmt.Appendf(nil, "counter/%02d", w) }
	runWorkers(t, workers, func(w int) error {
		for range opsPerWorker {
			if err := increment(t, s, keyOf(w)); err != nil {
				return fmt.Errorf("increment %d: %w", w, err)
			}
		}
		return nil
	})
	err := s.View(t.Context(), func(r kv.Reader) error {
		for w := range workers {
			n, err := readUint(r, keyOf(w))
			if err != nil {
				return err
			}
			if n != opsPerWorker {
				return fmt.Errorf("counter %d = %d, want %d", w, n, opsPerWorker)
			}
		}
		if ps := collect(t, r, []byte("counter/"), kv.PrefixEnd([]byte("counter/"))); len(ps) != workers {
			return fmt.Errorf("scan found %d counters, want %d", len(ps), workers)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testTransfersConsistent moves amounts between accounts in concurrent
// Updates while concurrent Views check that the total never changes, both
// through point reads and through a scan.
func testTransfersConsistent(t *testing.T, s kv.Store) {
	const (
		accounts = 5
		initial  = 1000
		readers  = 2
		views    = 100
	)
	acct := func(i int) []byte { return fmt.Appendf(nil, "acct/%d", i) }
	if err := s.Update(t.Context(), func(tx kv.Txn) error {
		for i := range accounts {
			putUint(tx, acct(i), initial)
		}
		return nil
	}); err != nil {
		t.Fatalf("Update(init): %v", err)
	}
	const total = accounts * initial

	var wg sync.WaitGroup
	readErr := make(chan error, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range views {
				err := s.View(t.Context(), func(r kv.Reader) error {
					var byGet, byScan uint64
					for i := range accounts {
						n, err := readUint(r, acct(i))
						if err != nil {
							return err
						}
						byGet += n
					}
					err := r.Scan([]byte("acct/"), kv.PrefixEnd([]byte("acct/")), func(_, v []byte) bool {
						byScan += binary.LittleEndian.Uint64(v)
						return true
					})
					if err != nil {
						return err
					}
					if byGet != total || byScan != total {
						return fmt.Errorf("view saw total %d by Get, %d by Scan; want %d", byGet, byScan, total)
					}
					return nil
				})
				if err != nil {
					readErr <- err
					return
				}
			}
		}()
	}
	runWorkers(t, workers, func(w int) error {
		rng := rand.New(rand.NewPCG(uint64(w), 7))
		for range opsPerWorker {
			from, to := rng.IntN(accounts), rng.IntN(accounts)
			amount := uint64(rng.IntN(10) + 1)
			err := s.Update(t.Context(), func(tx kv.Txn) error {
				a, err := readUint(tx, acct(from))
				if err != nil {
					return err
				}
				if a < amount {
					return nil
				}
				putUint(tx, acct(from), a-amount)
				b, err := readUint(tx, acct(to))
				if err != nil {
					return err
				}
				putUint(tx, acct(to), b+amount)
				return nil
			})
			if err != nil {
				return fmt.Errorf("transfer: %w", err)
			}
		}
		return nil
	})
	wg.Wait()
	close(readErr)
	for err := range readErr {
		t.Fatal(err)
	}
}
