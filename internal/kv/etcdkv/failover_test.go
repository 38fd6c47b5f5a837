package etcdkv_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/ferryfs/ferry/internal/kv/etcdkv/etcdtest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/etcdkv"
)

// TestMemberKilled runs a bounded workload of Updates on a three-member
// cluster of its own and kills the leader with SIGKILL part-way. Each
// Update increments a counter and writes a marker key of its own, so
// afterwards the counter must equal the number of markers (no Update
// applied twice, none applied in part), every Update that returned nil
// must have its marker, and every error must be of a known kind. The
// workload goes on against the two survivors and must keep committing.
func TestMemberKilled(t *testing.T) {
	c := etcdtest.Start(t, 3)
	t.Cleanup(c.Stop)
	const (
		workers   = 2
		perWorker = 120
		killAfter = 40 // committed Updates before the kill
	)
	prefix := newPrefix("failover")
	s := openURL(t, c.URL(prefix)+"&request-timeout=5s")
	leader := c.Leader(t)

	var (
		committed atomic.Int64
		killed    atomic.Bool
		killOnce  sync.Once
		mu        sync.Mutex
		okOps     []string        // markers of Updates that returned nil
		failed    = map[int]int{} // errors by phase: 0 before the kill, 1 after
		afterOK   int             // Updates that returned nil, begun after the kill
	)
	deadline := time.Now().Add(2 * time.Minute)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				if time.Now().After(deadline) {
					return
				}
				marker := fmt.Sprintf("op/%d/%03d", w, i)
				began := killed.Load()
				err := s.Update(t.Context(), func(tx kv.Txn) error {
					n, err := counter(tx)
					if err != nil {
						return err
					}
					tx.Set([]byte("counter"), binary.BigEndian.AppendUint64(nil, n+1))
					tx.Set([]byte(marker), []byte("x"))
					return nil
				})
				mu.Lock()
				switch {
				case err == nil:
					okOps = append(okOps, marker)
					if began {
						afterOK++
					}
				case errors.Is(err, etcdkv.ErrOutcomeUnknown), errors.Is(err, etcdkv.ErrUnreachable), errors.Is(err, kv.ErrConflict):
					failed[map[bool]int{false: 0, true: 1}[began]]++
					t.Logf("update %s: %v", marker, err)
				default:
					t.Errorf("update %s: unexpected error: %v", marker, err)
				}
				mu.Unlock()
				if err == nil && committed.Add(1) == killAfter {
					killOnce.Do(func() {
						t.Logf("killing the leader, member %d", leader)
						c.Kill(leader)
						killed.Store(true)
					})
				}
			}
		}()
	}
	wg.Wait()
	if !killed.Load() {
		t.Fatalf("only %d Updates committed; the leader was never killed", committed.Load())
	}
	t.Logf("%d Updates returned nil (%d of them begun after the kill); errors before the kill %d, after %d",
		len(okOps), afterOK, failed[0], failed[1])
	if afterOK == 0 {
		t.Fatalf("no Update committed after the leader was killed")
	}

	// Check through a fresh store that knows only the survivors.
	var survivors []int
	for i := range c.Members {
		if i != leader {
			survivors = append(survivors, i)
		}
	}
	check := openURL(t, c.URL(prefix, survivors...))
	err := check.View(t.Context(), func(r kv.Reader) error {
		n, err := counter(r)
		if err != nil {
			return err
		}
		markers := 0
		if err := r.Scan([]byte("op/"), kv.PrefixEnd([]byte("op/")), func(_, _ []byte) bool { markers++; return true }); err != nil {
			return err
		}
		if uint64(markers) != n {
			return fmt.Errorf("counter %d but %d markers: some Update applied twice or in part", n, markers)
		}
		for _, m := range okOps {
			if _, err := r.Get([]byte(m)); err != nil {
				return fmt.Errorf("marker %s of a committed Update: %w", m, err)
			}
		}
		if markers < len(okOps) || markers > len(okOps)+failed[0]+failed[1] {
			return fmt.Errorf("%d markers, but %d Updates returned nil and %d failed", markers, len(okOps), failed[0]+failed[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// With a second member gone the cluster has no quorum: reads and
	// commits fail within the request timeout, each with a one-line error.
	lost := openURL(t, c.URL(prefix)+"&request-timeout=1s")
	c.Kill(survivors[0])
	_, gerr := lost.Get(t.Context(), []byte("counter"))
	uerr := lost.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set([]byte("lost"), []byte("x"))
		return nil
	})
	for _, err := range []error{gerr, uerr} {
		if !errors.Is(err, etcdkv.ErrUnreachable) && !errors.Is(err, etcdkv.ErrOutcomeUnknown) {
			t.Fatalf("without quorum: %v, want ErrUnreachable or ErrOutcomeUnknown", err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error of more than one line: %q", err)
		}
		t.Logf("without quorum: %v", err)
	}
}

// counter reads the workload's counter, 0 when missing.
func counter(r kv.Reader) (uint64, error) {
	v, err := r.Get([]byte("counter"))
	if errors.Is(err, kv.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("counter has %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
