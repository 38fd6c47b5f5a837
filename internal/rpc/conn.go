package rpc

import (
	"net"
	"sync"

	"github.com/ferryfs/ferry/internal/wire"
)

// frameWriter writes frames to a connection for any number of goroutines.
// Frames queued while a write is under way go out together in the next
// write: a lone request costs one write(2), a burst costs few.
type frameWriter struct {
	c net.Conn

	mu      sync.Mutex
	buf     []byte // frames waiting for the flusher
	spare   []byte
	writing bool  // a goroutine is flushing
	err     error // the first write failure; every later write fails with it

	drained *sync.Cond // signalled after each write (budget.go)
}

func newFrameWriter(c net.Conn) *frameWriter { return &frameWriter{c: c} }

// write queues one frame (header h, payload from msg or raw p) and
// returns once it has been written, or failed.
func (w *frameWriter) write(h wire.Header, msg wire.Message, raw []byte) error {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	var start int
	w.buf, start = wire.BeginFrame(w.buf, h)
	if msg != nil {
		w.buf = wire.Append(w.buf, msg)
	}
	w.buf = append(w.buf, raw...)
	wire.EndFrame(w.buf, start)
	if w.writing {
		// The flusher takes it with the next batch; a failure of that
		// batch is reported to later writes, and the reader sees the
		// connection drop.
		w.mu.Unlock()
		return nil
	}
	w.writing = true
	return w.flush()
}

// flush writes what is queued until nothing is; the caller holds mu and
// has set writing. It returns with mu released.
func (w *frameWriter) flush() error {
	for len(w.buf) > 0 && w.err == nil {
		b := w.buf
		w.buf = w.spare[:0]
		w.mu.Unlock()
		_, err := w.c.Write(b)
		w.mu.Lock()
		if err != nil {
			w.err = err
		}
		if w.drained != nil {
			w.drained.Broadcast()
		}
		if cap(b) <= 1<<20 {
			w.spare = b[:0]
		} else {
			w.spare = nil // a large object went out; do not keep its buffer
		}
	}
	w.writing = false
	err := w.err
	w.mu.Unlock()
	return err
}

// hold makes writes queue until release: they return at once, as writes
// queued behind a flush do.
func (w *frameWriter) hold() {
	w.mu.Lock()
	w.writing = true
	w.mu.Unlock()
}

// release ends a hold: it writes first, then what was queued during the
// hold if keep is set, and returns first's write error.
func (w *frameWriter) release(first []byte, keep bool) error {
	w.mu.Lock()
	if !keep {
		w.buf = w.buf[:0]
	}
	if w.err == nil {
		w.buf = append(first, w.buf...)
	}
	return w.flush()
}

// fail makes every later write fail with err.
func (w *frameWriter) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.buf = nil
	if w.drained != nil {
		w.drained.Broadcast()
	}
	w.mu.Unlock()
}

// writeFrame writes an encoded frame as it is.
func (w *frameWriter) writeFrame(frame []byte) error {
	h, n, err := wire.ParseHeader(frame, wire.MaxFrame)
	if err != nil {
		return err
	}
	return w.write(h, nil, frame[wire.HeaderSize:wire.HeaderSize+n])
}
