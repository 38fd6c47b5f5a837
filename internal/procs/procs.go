package procs

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// procTick is how often the governor looks for file data requests; a
// mount with none during a whole tick goes back to one processor.
const procTick = 100 * time.Millisecond

// Governor sets how many processors the Go scheduler uses: one while
// only metadata requests arrive, all of them while file data moves.
//
// A metadata request is a short rendezvous with one waiting caller: one
// reader goroutine wakes, answers and reads again. With a second, idle
// processor, every goroutine that a request makes runnable (go-fuse starts
// a new reader whenever the last one takes a request; Pebble signals its
// log writer at every commit) wakes a second thread on the other CPU,
// which is where the caller wants to run next. Measured with ferry bench
// on two CPUs (10,000 files, median of 3): create 10,450/s with two
// processors and 22,170/s with one; unlink 14,460/s and 35,400/s. File
// data wants every CPU instead (copies, checksums and uploads run in
// parallel): 1 GiB write+fsync 670-955 MiB/s with two, 530-700 with one.
//
// Read, write, fsync and flush requests mark the mount busy with data
// (begin/end); the first raises the processor count at once, and a tick
// with no data request begun and none in flight lowers it again.
type Governor struct {
	set  func(n int) // sets the processor count
	high int

	mu     sync.Mutex // serializes changes of the count
	raised atomic.Bool
	seen   atomic.Bool  // a data request began since the last tick
	busy   atomic.Int64 // data requests in flight

	stopOnce sync.Once
	quit     chan struct{}
	done     chan struct{}
}

// newGovernor returns a governor that switches between one processor
// and high through set; it starts lowered. It returns nil (a governor that
// does nothing) when high is 1 or less.
func newGovernor(high int, set func(int)) *Governor {
	if high <= 1 {
		return nil
	}
	g := &Governor{set: set, high: high, quit: make(chan struct{})}
	g.set(1)
	return g
}

// Start governs the Go runtime's GOMAXPROCS, from its value
// now, with a ticker; nil if there is only one processor to use.
func Start() *Governor {
	g := newGovernor(runtime.GOMAXPROCS(0), func(n int) { runtime.GOMAXPROCS(n) })
	if g == nil {
		return nil
	}
	g.done = make(chan struct{})
	t := time.NewTicker(procTick)
	go func() {
		defer close(g.done)
		defer t.Stop()
		for {
			select {
			case <-g.quit:
				return
			case <-t.C:
				g.tick()
			}
		}
	}()
	return g
}

// Begin marks the start of a data request.
func (g *Governor) Begin() {
	if g == nil {
		return
	}
	g.busy.Add(1)
	g.seen.Store(true)
	if !g.raised.Load() {
		g.mu.Lock()
		if !g.raised.Load() {
			g.set(g.high)
			g.raised.Store(true)
		}
		g.mu.Unlock()
	}
}

// End marks the end of a data request begun with Begin.
func (g *Governor) End() {
	if g != nil {
		g.busy.Add(-1)
	}
}

// tick lowers the count if no data request began since the last tick and
// none is in flight.
func (g *Governor) tick() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen.Swap(false) || !g.raised.Load() || g.busy.Load() > 0 {
		return
	}
	g.set(1)
	g.raised.Store(false)
}

// Stop ends the ticker and leaves the count raised, so that what runs
// after the mount (the final flush) has every CPU.
func (g *Governor) Stop() {
	if g == nil {
		return
	}
	g.stopOnce.Do(func() {
		close(g.quit)
		if g.done != nil {
			<-g.done
		}
		g.mu.Lock()
		if !g.raised.Load() {
			g.set(g.high)
			g.raised.Store(true)
		}
		g.mu.Unlock()
	})
}
