package kv

import "sync/atomic"

// gateClosed marks a closed gate in gate.state; the low bits count the
// operations in progress.
const gateClosed = 1 << 62

// Gate lets a backend's operations run until Close, then makes Close wait
// for the running ones: engines that panic or block when used after Close
// (Pebble, bbolt) hold it for as long as an operation touches them. Make
// one with NewGate.
type Gate struct {
	state   atomic.Int64
	drained chan struct{} // closed when the gate is closed and idle
}

// NewGate returns an open gate.
func NewGate() *Gate { return &Gate{drained: make(chan struct{})} }

// Enter registers an operation; it returns false once the gate is closed.
func (g *Gate) Enter() bool {
	for {
		s := g.state.Load()
		if s&gateClosed != 0 {
			return false
		}
		if g.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// Leave ends an operation started by a successful Enter.
func (g *Gate) Leave() {
	if g.state.Add(-1) == gateClosed {
		close(g.drained)
	}
}

// Close shuts the gate and waits for running operations. It returns false
// if the gate was already closed.
func (g *Gate) Close() bool {
	for {
		s := g.state.Load()
		if s&gateClosed != 0 {
			return false
		}
		if g.state.CompareAndSwap(s, s|gateClosed) {
			if s == 0 {
				close(g.drained)
			}
			<-g.drained
			return true
		}
	}
}
