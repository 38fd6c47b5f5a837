package standby

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/memkv"
	"github.com/ferryfs/ferry/internal/meta"
)

func TestWatch(t *testing.T) {
	const p = 5 * time.Second
	t0 := time.Unix(100, 0)
	a := meta.Active{Holder: "a", Term: 1, Beat: 7}
	steps := []struct {
		name string
		rec  meta.Active
		ok   bool
		at   time.Duration
		want bool
	}{
		{"first sight of a holder", a, true, 0, false},
		{"unchanged, within the period", a, true, p, false},
		{"unchanged, within the margin", a, true, p + margin(p) - 1, false},
		{"a beat restarts the wait", meta.Active{Holder: "a", Term: 1, Beat: 8}, true, p + margin(p), false},
		{"unchanged since the beat, not long enough", meta.Active{Holder: "a", Term: 1, Beat: 8}, true, 2 * p, false},
		{"unchanged for period and margin", meta.Active{Holder: "a", Term: 1, Beat: 8}, true, 2*p + 2*margin(p), true},
		{"a new term restarts the wait", meta.Active{Holder: "b", Term: 2}, true, 3 * p, false},
		{"released", meta.Active{Term: 2, Beat: 1}, true, 3 * p, true},
		{"no record", meta.Active{}, false, 3 * p, true},
	}
	w := Watch{Period: p}
	for _, s := range steps {
		if got := w.Observe(s.rec, s.ok, t0.Add(s.at)); got != s.want {
			t.Fatalf("%s: Observe = %v, want %v", s.name, got, s.want)
		}
	}
}

// flaky is a store whose updates fail while cut.
type flaky struct {
	kv.Store
	cut atomic.Bool
}

var errCut = errors.New("engine unreachable")

func (f *flaky) Update(ctx context.Context, fn func(kv.Txn) error) error {
	if f.cut.Load() {
		return errCut
	}
	return f.Store.Update(ctx, fn)
}

func acquireAsync(t *testing.T, store kv.Store, addr string) (<-chan *Lease, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan *Lease, 1)
	go func() {
		l, err := Acquire(ctx, store, Options{Period: 5 * time.Second, Addrs: []string{addr}})
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Acquire %s: %v", addr, err)
			}
			close(ch)
			return
		}
		ch <- l
	}()
	return ch, cancel
}

func poll(ch <-chan *Lease) *Lease {
	select {
	case l := <-ch:
		return l
	default:
		return nil
	}
}

func setKey(ctx context.Context, s kv.Store, v string) error {
	return s.Update(ctx, func(t kv.Txn) error { t.Set([]byte("k"), []byte(v)); return nil })
}

func TestTakeOverFromACrashedHolder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := memkv.New()
		chA, cancelA := acquireAsync(t, store, "a")
		defer cancelA()
		synctest.Wait()
		a := poll(chA)
		if a == nil {
			t.Fatal("the first service did not become active at once")
		}
		chB, cancelB := acquireAsync(t, store, "b")
		defer cancelB()
		// While a renews, b waits, however long.
		time.Sleep(10 * DefaultPeriod)
		synctest.Wait()
		if poll(chB) != nil {
			t.Fatal("the standby took over from a live holder")
		}
		fa := Fence(store, a)
		if err := setKey(ctx, fa, "a"); err != nil {
			t.Fatalf("update by the holder: %v", err)
		}
		// a stops renewing (frozen): b takes over after period and margin.
		close(a.stop)
		<-a.done
		start := time.Now()
		var b *Lease
		for b == nil && time.Since(start) < 3*DefaultPeriod {
			time.Sleep(DefaultPeriod / 8)
			synctest.Wait()
			b = poll(chB)
		}
		if b == nil {
			t.Fatal("the standby did not take over")
		}
		// The last beat was at most one renewal interval before a stopped.
		if waited := time.Since(start); waited < DefaultPeriod+margin(DefaultPeriod)-DefaultPeriod/4 {
			t.Fatalf("took over %v after the holder stopped: sooner than period and margin after its last beat", waited)
		}
		if _, term := b.Holder(); term != 2 {
			t.Fatalf("new term %d, want 2", term)
		}
		// a wakes up: its writes are refused and it knows it lost.
		if err := setKey(ctx, fa, "stale"); !errors.Is(err, ErrFenced) {
			t.Fatalf("update by the old holder: %v, want ErrFenced", err)
		}
		select {
		case <-a.Lost():
		default:
			t.Fatal("the old holder's lease is not marked lost")
		}
		if err := setKey(ctx, Fence(store, b), "b"); err != nil {
			t.Fatalf("update by the new holder: %v", err)
		}
		v, err := store.Get(ctx, []byte("k"))
		if err != nil || string(v) != "b" {
			t.Fatalf("k = %q, %v; want b", v, err)
		}
		if err := b.Release(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestReleaseHandsOverAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := memkv.New()
		chA, cancelA := acquireAsync(t, store, "a")
		defer cancelA()
		synctest.Wait()
		a := poll(chA)
		chB, cancelB := acquireAsync(t, store, "b")
		defer cancelB()
		time.Sleep(DefaultPeriod)
		synctest.Wait()
		start := time.Now()
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		var b *Lease
		for b == nil && time.Since(start) < DefaultPeriod {
			time.Sleep(DefaultPeriod / 16)
			synctest.Wait()
			b = poll(chB)
		}
		if b == nil {
			t.Fatal("the standby did not take over a released volume")
		}
		if waited := time.Since(start); waited > DefaultPeriod/4 {
			t.Fatalf("took over %v after the release; want within a look", waited)
		}
		if err := setKey(ctx, Fence(store, a), "a"); !errors.Is(err, ErrFenced) {
			t.Fatalf("update after release: %v, want ErrFenced", err)
		}
		if err := b.Release(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestHolderGivesUpBeforeTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &flaky{Store: memkv.New()}
		chA, cancelA := acquireAsync(t, store, "a")
		defer cancelA()
		synctest.Wait()
		a := poll(chA)
		if a == nil {
			t.Fatal("not active")
		}
		time.Sleep(DefaultPeriod)
		store.cut.Store(true)
		cutAt := time.Now()
		<-a.Lost()
		gaveUp := time.Since(cutAt)
		if gaveUp > DefaultPeriod-margin(DefaultPeriod) {
			t.Fatalf("the holder gave up %v after it lost the engine; a standby may take over after %v",
				gaveUp, DefaultPeriod+margin(DefaultPeriod))
		}
		if !errors.Is(a.Err(), errCut) {
			t.Fatalf("Err = %v, want the engine's error", a.Err())
		}
		<-a.done
	})
}

func TestTryAcquire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := memkv.New()
		// Nobody holds the volume: taken at once.
		a, err := TryAcquire(ctx, store, Options{Addrs: []string{"fsck"}})
		if err != nil {
			t.Fatal(err)
		}
		// a renews: another TryAcquire sees the beat move and gives up.
		start := time.Now()
		_, err = TryAcquire(ctx, store, Options{})
		var held *HeldError
		if !errors.As(err, &held) || len(held.Addrs) != 1 || held.Addrs[0] != "fsck" {
			t.Fatalf("TryAcquire of a live holder's volume: %v, want a HeldError naming its address", err)
		}
		if waited := time.Since(start); waited > DefaultPeriod/2 {
			t.Fatalf("took %v to see a live holder", waited)
		}
		// a is frozen: the volume is taken after period and margin.
		close(a.stop)
		<-a.done
		b, err := TryAcquire(ctx, store, Options{})
		if err != nil {
			t.Fatalf("TryAcquire of a dead holder's volume: %v", err)
		}
		if err := b.Release(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
