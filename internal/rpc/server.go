package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/wire"
)

// SessionHandler serves the calls of one session on one connection.
type SessionHandler interface {
	// Call serves one request and returns the reply payload (errno
	// first, wire.AppendReply). Calls of a session run concurrently.
	Call(ctx context.Context, op wire.Op, id uint64, payload []byte) []byte
	// Detached is called once the connection has ended and every Call
	// on it has returned.
	Detached(err error)
}

// Inliner is implemented by a SessionHandler some of whose calls never
// wait for anything but the local stores (reads): the server may run
// those on the connection's reader when no other frame is waiting.
// Handing a call to a new goroutine wakes another thread, and on a
// virtual machine that wake and the runtime's work stealing cost tens of
// microseconds (BenchmarkGetattrAcrossProcesses in appliancetest).
type Inliner interface {
	Inline(op wire.Op) bool
}

// Pusher sends unsolicited frames to the client of a connection.
type Pusher interface {
	Push(op wire.Op, id uint64, msg wire.Message) error
}

// Acceptor admits a session: it answers a connection's Hello with a
// handler for its calls, or refuses it with an error the client is told.
type Acceptor func(ctx context.Context, hello *wire.Hello, peer string, push Pusher) (SessionHandler, *wire.HelloReply, error)

// ServerOptions configure a Server.
type ServerOptions struct {
	Accept Acceptor
	// MaxInflight bounds the calls of one connection served at once;
	// further frames wait to be read. Zero means 256.
	MaxInflight int
	// MaxFrame bounds a frame; zero means wire.DefaultMaxFrame.
	MaxFrame int
	// MaxBuffered bounds the bytes of one connection's calls in service
	// and replies waiting to be sent (beyond one frame); zero means
	// DefaultMaxBuffered.
	MaxBuffered int
	// HelloTimeout bounds the wait for a new connection's Hello. Zero
	// means 10 s.
	HelloTimeout time.Duration
	Logger       *slog.Logger
}

// Server accepts connections and runs their sessions.
type Server struct {
	opts ServerOptions
	log  *slog.Logger

	mu     sync.Mutex
	lns    []net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewServer returns a server that admits sessions with opts.Accept.
func NewServer(opts ServerOptions) *Server {
	if opts.MaxInflight <= 0 {
		opts.MaxInflight = 256
	}
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = wire.DefaultMaxFrame
	}
	if opts.MaxBuffered <= 0 {
		opts.MaxBuffered = DefaultMaxBuffered
	}
	if opts.HelloTimeout <= 0 {
		opts.HelloTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{opts: opts, log: opts.Logger, conns: make(map[net.Conn]struct{})}
}

// Serve accepts connections on ln until Close. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// Close stops accepting, closes every connection and waits for their
// calls to return.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

type serverConn struct {
	c net.Conn
	w *frameWriter
}

func (sc *serverConn) Push(op wire.Op, id uint64, msg wire.Message) error {
	return sc.w.write(wire.Header{Kind: wire.KindPush, Op: op, ID: id}, msg, nil)
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	peer := c.RemoteAddr().String()
	if peer == "" || peer == "@" {
		peer = c.LocalAddr().Network()
	}
	sc := &serverConn{c: c, w: newFrameWriter(c)}
	r := bufio.NewReaderSize(c, 64<<10)

	c.SetReadDeadline(time.Now().Add(s.opts.HelloTimeout))
	h, p, err := wire.ReadFrame(r, 64<<10)
	if err != nil {
		s.log.Debug("rpc: connection closed before hello", "peer", peer, "cause", err)
		return
	}
	c.SetReadDeadline(time.Time{})
	if h.Kind != wire.KindCall || h.Op != wire.OpHello {
		s.log.Warn("rpc: connection refused: first frame is not a hello", "peer", peer, "kind", h.Kind, "op", h.Op)
		return
	}
	var hello wire.Hello
	if err := wire.Decode(p, &hello); err != nil {
		s.log.Warn("rpc: connection refused: malformed hello", "peer", peer, "cause", err)
		return
	}
	// The answer to Hello is the first frame the client reads: what the
	// acceptor pushes (a resumed session's recalls) or others push to the
	// session before it is answered waits for it.
	sc.w.hold()
	handler, reply, err := s.opts.Accept(context.Background(), &hello, peer, sc)
	answer := wire.Header{Kind: wire.KindReply, Op: wire.OpHello, ID: h.ID}
	if err != nil {
		s.log.Warn("rpc: session refused", "peer", peer, "client", hello.Client, "cause", err)
		sc.w.release(wire.AppendFrame(nil, answer, wire.AppendReply(nil, errnoOf(err), err.Error(), nil)), false)
		return
	}
	if err := sc.w.release(wire.AppendFrame(nil, answer, wire.AppendReply(nil, 0, "", reply)), true); err != nil {
		handler.Detached(err)
		return
	}

	var calls sync.WaitGroup
	sem := make(chan struct{}, s.opts.MaxInflight)
	mem := newBudget(s.opts.MaxBuffered)
	// Calls go to idle workers, or to a new one while fewer than
	// MaxInflight exist: a worker's stack has grown to what calls need
	// already, where a goroutine per call grows (copies) its own.
	work := make(chan serverCall)
	worker := func(c serverCall) {
		defer calls.Done()
		defer func() { <-sem }()
		idle := time.NewTimer(workerIdle)
		defer idle.Stop()
		for {
			out := handler.Call(context.Background(), c.h.Op, c.h.ID, c.p)
			sc.w.write(wire.Header{Kind: wire.KindReply, Op: c.h.Op, ID: c.h.ID}, nil, out)
			sc.w.waitBelow(s.opts.MaxBuffered)
			mem.release(len(c.p))
			idle.Reset(workerIdle)
			var ok bool
			select {
			case c, ok = <-work:
				if !ok {
					return
				}
			case <-idle.C:
				return
			}
		}
	}
	var cause error
	for {
		h, p, err := wire.ReadFrame(r, s.opts.MaxFrame)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				cause = err
			}
			break
		}
		if h.Kind != wire.KindCall || h.Op == wire.OpHello {
			cause = fmt.Errorf("%w: %v %v frame from a client", wire.ErrMalformed, h.Kind, h.Op)
			break
		}
		if in, ok := handler.(Inliner); ok && r.Buffered() == 0 && in.Inline(h.Op) && !sc.w.backedUp(s.opts.MaxBuffered) {
			// Nothing else is waiting to be read and the call cannot
			// block: serve it here, without waking another thread.
			out := handler.Call(context.Background(), h.Op, h.ID, p)
			sc.w.write(wire.Header{Kind: wire.KindReply, Op: h.Op, ID: h.ID}, nil, out)
			continue
		}
		mem.acquire(len(p))
		call := serverCall{h, p}
		select {
		case work <- call: // an idle worker
		default:
			select {
			case work <- call:
			case sem <- struct{}{}:
				calls.Add(1)
				go worker(call)
			}
		}
	}
	close(work)
	if cause != nil && wire.IsMalformed(cause) || errors.Is(cause, wire.ErrFrameTooLarge) {
		s.log.Warn("rpc: closing connection after a bad frame", "peer", peer, "client", hello.Client, "cause", cause)
	}
	c.Close()
	sc.w.fail(net.ErrClosed)
	calls.Wait()
	handler.Detached(cause)
}

// serverCall is a call read from a connection.
type serverCall struct {
	h wire.Header
	p []byte
}

// workerIdle is how long a connection's idle worker waits for a call
// before it exits.
const workerIdle = time.Second

// errnoOf returns the errno err carries, or EIO.
func errnoOf(err error) syscall.Errno {
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return syscall.EIO
}
