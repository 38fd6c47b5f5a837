package bboltkv

import "sync/atomic"

// closedBit marks a closed gate in gate.state; the low bits count the
// operations in progress.
const closedBit = 1 << 62

// gate lets operations run until Close, then makes Close wait for the
// running ones. bbolt fails or blocks when used after Close, so every operation
// holds the gate for as long as it touches the database.
type gate struct {
	state   atomic.Int64
	drained chan struct{} // closed when the gate is closed and idle
}

func (g *gate) init() { g.drained = make(chan struct{}) }

// enter registers an operation; it returns false once the gate is closed.
func (g *gate) enter() bool {
	for {
		s := g.state.Load()
		if s&closedBit != 0 {
			return false
		}
		if g.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// leave ends an operation started by a successful enter.
func (g *gate) leave() {
	if g.state.Add(-1) == closedBit {
		close(g.drained)
	}
}

// close shuts the gate and waits for running operations. It returns false
// if the gate was already closed.
func (g *gate) close() bool {
	for {
		s := g.state.Load()
		if s&closedBit != 0 {
			return false
		}
		if g.state.CompareAndSwap(s, s|closedBit) {
			if s == 0 {
				close(g.drained)
			}
			<-g.drained
			return true
		}
	}
}
