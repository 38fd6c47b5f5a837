package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferryfs/ferry/internal/wire"
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// Addrs are the service's addresses, tried in order on every
	// (re)connect: an active instance and its standbys.
	Addrs []Addr
	// Client describes this client in the service's logs.
	Client string
	// OnPush receives the service's unsolicited frames (recalls), on a
	// goroutine of its own: it may block and make calls.
	OnPush func(h wire.Header, payload []byte)
	// OnPushSync, if set, sees each Push first, on the reader itself,
	// before any later frame is read: what it does happens before the
	// caller of any call whose reply follows the push learns of it. It
	// must not block.
	OnPushSync func(h wire.Header, payload []byte)
	// OnSession is called after every (re)connect with the service's
	// answer. resumed=false after a reconnect means the service no longer
	// knows the session: every lease it held is gone.
	OnSession func(reply *wire.HelloReply, reconnect bool)
	// Check, if set, vets every Hello reply, the first and those of
	// reconnects; an error refuses that service (a reconnect goes on
	// trying the others).
	Check func(reply *wire.HelloReply) error
	// Patience bounds how long a call waits for a service that went away
	// (reconnecting meanwhile) before it fails with EIO. Zero means one
	// minute.
	Patience time.Duration
	// DialTimeout bounds one connection attempt. Zero means 5 s.
	DialTimeout time.Duration
	// Credentials, if set, secure and authenticate every connection.
	Credentials *Credentials
	Logger      *slog.Logger
}

// Client is one session with a service over one connection at a time.
// Calls are pipelined: any number may be in flight. When the connection
// breaks, the client reconnects (with backoff, trying every address),
// resumes its session, and sends again the calls that had no reply; the
// service answers a call it already ran from its reply cache, so each
// runs once.
type Client struct {
	opts ClientOptions
	log  *slog.Logger

	nextID atomic.Uint64

	mu      sync.Mutex
	conn    *clientConn   // nil while reconnecting
	ready   chan struct{} // closed when conn is set; replaced when it breaks
	pending map[uint64]*call
	session uint64
	hello   wire.HelloReply
	closed  bool
	renewed time.Time // see Renewed
	downAt  time.Time // when the connection broke; zero while connected
	gaveUp  bool      // down for longer than Patience: calls fail at once

	retry chan struct{} // a call found the service given up on: reconnect now
	stop  chan struct{}
	done  chan struct{} // closed when the maintenance goroutine exits
}

type clientConn struct {
	c    net.Conn
	w    *frameWriter
	lost chan struct{} // closed when the connection is retired, so that it is replaced at once
}

type call struct {
	op    wire.Op
	frame []byte // the whole frame, kept for a resend
	sent  time.Time
	reply chan result               // a Call's
	done  func(p []byte, err error) // a Send's
}

type result struct {
	p   []byte
	err error
}

// ErrClosed is the error of calls made after Close.
var ErrClosed = errors.New("rpc: client closed")

// Connect opens a session with the service at opts.Addrs. It fails at
// once, with the reason, if no address accepts the connection or the
// service refuses the session.
func Connect(ctx context.Context, opts ClientOptions) (*Client, error) {
	if len(opts.Addrs) == 0 {
		return nil, errors.New("rpc: no service address")
	}
	if opts.Patience <= 0 {
		opts.Patience = time.Minute
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Client == "" {
		h, _ := os.Hostname()
		opts.Client = fmt.Sprintf("%s:%d", h, os.Getpid())
	}
	cl := &Client{
		opts:    opts,
		log:     opts.Logger,
		ready:   make(chan struct{}),
		pending: make(map[uint64]*call),
		retry:   make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	cc, reply, err := cl.dial(ctx)
	if err != nil {
		return nil, err
	}
	cl.session = reply.Session
	cl.hello = *reply
	if opts.OnSession != nil {
		opts.OnSession(reply, false)
	}
	cl.install(cc)
	go cl.maintain()
	return cl, nil
}

// Connected reports whether the client has a connection to the service
// now (it is reconnecting otherwise).
func (cl *Client) Connected() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.conn != nil
}

// Session returns the service's answer to the latest Hello.
func (cl *Client) Session() wire.HelloReply {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.hello
}

// dial connects to the first address that answers and says Hello.
func (cl *Client) dial(ctx context.Context) (*clientConn, *wire.HelloReply, error) {
	var errs []error
	for _, a := range cl.opts.Addrs {
		dctx, cancel := context.WithTimeout(ctx, cl.opts.DialTimeout)
		cc, reply, err := cl.dialOne(dctx, a)
		cancel()
		if err == nil {
			return cc, reply, nil
		}
		var re *wire.RemoteError
		if errors.As(err, &re) {
			return nil, nil, &Refused{Addr: a, Errno: re.Errno, Reason: re.Reason}
		}
		errs = append(errs, err)
	}
	return nil, nil, errors.Join(errs...)
}

func (cl *Client) dialOne(ctx context.Context, a Addr) (*clientConn, *wire.HelloReply, error) {
	c, err := cl.opts.Credentials.dial(ctx, a)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", a, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	cl.mu.Lock()
	session := cl.session
	cl.mu.Unlock()
	hello := &wire.Hello{MinVersion: wire.MinVersion, MaxVersion: wire.Version, Session: session,
		Next: cl.nextID.Load() + 1, Client: cl.opts.Client}
	frame := wire.AppendFrame(nil, wire.Header{Kind: wire.KindCall, Op: wire.OpHello}, wire.Append(nil, hello))
	if _, err := c.Write(frame); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("connect to %s: %w", a, err)
	}
	h, p, err := wire.ReadFrame(c, 0)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("connect to %s: no answer to hello: %w", a, err)
	}
	if h.Kind != wire.KindReply || h.Op != wire.OpHello {
		c.Close()
		return nil, nil, fmt.Errorf("connect to %s: not a ferry service (answered %v %v)", a, h.Kind, h.Op)
	}
	var reply wire.HelloReply
	if err := wire.DecodeReply(wire.OpHello, p, &reply); err != nil {
		c.Close()
		return nil, nil, err
	}
	if reply.Version < wire.MinVersion || reply.Version > wire.Version {
		c.Close()
		return nil, nil, fmt.Errorf("connect to %s: the service answered protocol version %d; this client speaks %d-%d",
			a, reply.Version, wire.MinVersion, wire.Version)
	}
	if cl.opts.Check != nil {
		if err := cl.opts.Check(&reply); err != nil {
			c.Close()
			return nil, nil, fmt.Errorf("connect to %s: %w", a, err)
		}
	}
	c.SetDeadline(time.Time{})
	return &clientConn{c: c, w: newFrameWriter(c), lost: make(chan struct{})}, &reply, nil
}

// install makes cc the connection, resends what is pending, and starts
// its reader.
func (cl *Client) install(cc *clientConn) {
	cl.mu.Lock()
	if cl.closed {
		// Close came while cc was being opened: it did not see cc.
		cl.mu.Unlock()
		cc.c.Close()
		return
	}
	cl.conn = cc
	close(cl.ready)
	cl.downAt, cl.gaveUp = time.Time{}, false
	resend := make([]*call, 0, len(cl.pending))
	for _, c := range cl.pending {
		resend = append(resend, c)
	}
	cl.mu.Unlock()
	go cl.read(cc)
	for _, c := range resend {
		cc.w.writeFrame(c.frame)
	}
}

// read delivers replies and pushes until the connection breaks.
func (cl *Client) read(cc *clientConn) {
	r := bufio.NewReaderSize(cc.c, 64<<10)
	for {
		h, p, err := wire.ReadFrame(r, 0)
		if err != nil {
			cl.broken(cc, err)
			return
		}
		switch h.Kind {
		case wire.KindReply:
			cl.mu.Lock()
			c := cl.pending[h.ID]
			delete(cl.pending, h.ID)
			cl.mu.Unlock()
			if c != nil {
				cl.finish(c, result{p: p})
			}
		case wire.KindPush:
			if cl.opts.OnPushSync != nil {
				cl.opts.OnPushSync(h, p)
			}
			if cl.opts.OnPush != nil {
				go cl.opts.OnPush(h, p)
			}
		default:
			cl.broken(cc, fmt.Errorf("%w: frame kind %d from the service", wire.ErrMalformed, h.Kind))
			return
		}
	}
}

// broken retires cc; the maintenance goroutine reconnects.
func (cl *Client) broken(cc *clientConn, err error) {
	cc.w.fail(err)
	cc.c.Close()
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.conn != cc {
		return
	}
	cl.conn = nil
	close(cc.lost)
	cl.ready = make(chan struct{})
	cl.downAt = time.Now()
	if !cl.closed {
		cl.log.Warn("rpc: connection to the service lost; reconnecting", "session", cl.session, "cause", err)
	}
}
