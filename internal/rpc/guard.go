package rpc

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/wire"
	"golang.org/x/sys/unix"
)

// Policy says how a listener admits clients, before it reads their Hello.
type Policy struct {
	// TLS, if set, makes the listener speak TLS 1.3 with this
	// configuration's certificate.
	TLS *tls.Config
	// ClientCAs, if set, admits only clients whose certificate chains to
	// one of these authorities (mutual TLS). It needs TLS.
	ClientCAs *x509.CertPool
	// Token, if set, admits only clients that present it.
	Token []byte
	// Now is the clock client certificates are checked against; nil
	// means time.Now.
	Now func() time.Time
}

// String names the policy for logs: "mutual TLS", "TLS + token",
// "token", "TLS" (encrypted, admits anybody) or "none".
func (p Policy) String() string {
	switch {
	case p.TLS != nil && p.ClientCAs != nil && p.Token != nil:
		return "mutual TLS + token"
	case p.TLS != nil && p.ClientCAs != nil:
		return "mutual TLS"
	case p.TLS != nil && p.Token != nil:
		return "TLS + token"
	case p.TLS != nil:
		return "TLS"
	case p.Token != nil:
		return "token"
	}
	return "none"
}

// Authenticates reports whether the policy admits only some clients.
func (p Policy) Authenticates() bool { return p.ClientCAs != nil || p.Token != nil }

// refuseLinger bounds how long a refused connection is kept open to
// read what the client sent after its credentials.
const refuseLinger = 2 * time.Second

// Guard returns ln admitting clients by p. Each connection authenticates
// at its first read or write, so before the server reads its Hello: a
// client p refuses gets its Hello refused with EACCES and the reason, is
// logged once (Warn "client refused", with its address and the reason),
// and its connection is closed. Nothing of a refused client is served.
func Guard(ln net.Listener, p Policy, log *slog.Logger) (net.Listener, error) {
	if p.ClientCAs != nil && p.TLS == nil {
		return nil, errors.New("client certificates need a TLS listener")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &guard{policy: p.String(), clientCAs: p.ClientCAs, now: p.Now, log: log, listen: ln.Addr().String()}
	if g.now == nil {
		g.now = time.Now
	}
	if p.TLS != nil {
		g.tls = p.TLS.Clone()
		g.tls.MinVersion = tls.VersionTLS13
		if p.ClientCAs != nil {
			// Asked for, and checked after the handshake (verify), so
			// that a refused client is told why in the clear words of a
			// refused Hello rather than a TLS alert.
			g.tls.ClientAuth = tls.RequestClientCert
		}
	}
	if p.Token != nil {
		sum := sha256.Sum256(p.Token)
		g.token = &sum
	}
	return &guardListener{Listener: ln, g: g}, nil
}

type guard struct {
	policy    string
	tls       *tls.Config
	clientCAs *x509.CertPool
	token     *[sha256.Size]byte
	now       func() time.Time
	log       *slog.Logger
	listen    string
}

type guardListener struct {
	net.Listener
	g *guard
}

func (l *guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardedConn{Conn: c, g: l.g}, nil
}

// guardedConn is an accepted connection that authenticates at its first
// read or write. Deadlines, addresses and Close are the accepted
// connection's own; reads and writes go through what admit returned.
type guardedConn struct {
	net.Conn
	g    *guard
	once sync.Once
	c    net.Conn
	err  error
}

func (c *guardedConn) admit() error {
	c.once.Do(func() { c.c, c.err = c.g.admit(c.Conn) })
	return c.err
}

func (c *guardedConn) Read(p []byte) (int, error) {
	if err := c.admit(); err != nil {
		return 0, err
	}
	return c.c.Read(p)
}

func (c *guardedConn) Write(p []byte) (int, error) {
	if err := c.admit(); err != nil {
		return 0, err
	}
	return c.c.Write(p)
}

// errRefused is what a refused connection's reads return.
var errRefused = errors.New("client refused")

// admit runs TLS, checks the client's certificate and token, and returns
// the connection to serve the session on.
func (g *guard) admit(raw net.Conn) (net.Conn, error) {
	peer := peerName(raw)
	c, who := raw, ""
	if g.tls != nil {
		tc := tls.Server(raw, g.tls)
		if err := tc.Handshake(); err != nil {
			var rh tls.RecordHeaderError
			if errors.As(err, &rh) && rh.Conn != nil {
				return nil, g.refuse(rh.Conn, peer, "this listener speaks TLS and the client does not (mount with --tls-ca)")
			}
			return nil, g.lost(peer, "TLS handshake: "+err.Error(), err)
		}
		c = tc
		if g.clientCAs != nil {
			name, err := g.verify(tc.ConnectionState())
			if err != nil {
				return nil, g.refuse(c, peer, err.Error())
			}
			who = name
		}
	}
	var magic [4]byte
	if _, err := io.ReadFull(c, magic[:]); err != nil {
		return nil, g.lost(peer, "no hello: "+err.Error(), err)
	}
	switch {
	case magic == tokenMagic:
		tok, err := readToken(c)
		if err != nil {
			return nil, g.refuse(c, peer, "malformed token")
		}
		if g.token != nil && !tokenMatches(tok, g.token) {
			return nil, g.refuse(c, peer, "bad token")
		}
	case g.token != nil:
		return nil, g.refuse(c, peer, "no token (mount with --token-file or FERRY_TOKEN)")
	case g.tls == nil && magic[0] == 0x16 && magic[1] == 3:
		// A TLS ClientHello. The plain answer is no TLS record, which
		// is what the client's TLS tells it.
		return nil, g.refuse(c, peer, "the client speaks TLS and this listener does not (add ?tls=1 to it)")
	default:
		c = &prefixConn{Conn: c, pre: magic[:]}
	}
	g.log.Debug("client admitted", "peer", peer, "listen", g.listen, "by", g.policy, "certificate", who)
	return c, nil
}

// verify checks the client certificate of a TLS connection against the
// client authorities and returns its common name.
func (g *guard) verify(cs tls.ConnectionState) (string, error) {
	if len(cs.PeerCertificates) == 0 {
		return "", errors.New("no client certificate (mount with --tls-cert and --tls-key)")
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: g.clientCAs, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: g.now()})
	if err != nil {
		return "", fmt.Errorf("client certificate %q: %v", leaf.Subject.CommonName, err)
	}
	return leaf.Subject.CommonName, nil
}

// refuse tells the client why, in answer to its Hello, logs it, and
// closes the connection.
func (g *guard) refuse(c net.Conn, peer, reason string) error {
	g.log.Warn("client refused", "peer", peer, "listen", g.listen, "reason", reason)
	c.SetDeadline(time.Now().Add(refuseLinger))
	frame := wire.AppendFrame(nil, wire.Header{Kind: wire.KindReply, Op: wire.OpHello},
		wire.AppendReply(nil, syscall.EACCES, reason, nil))
	if _, err := c.Write(frame); err == nil {
		// Closing a socket with unread input resets the connection, and
		// the reset may overtake the answer: read until the client, which
		// has the answer, closes its end.
		io.Copy(io.Discard, io.LimitReader(c, 1<<20))
	}
	c.Close()
	return errRefused
}

// lost reports a connection that ended or failed before it could be
// admitted: a client that went away is worth a debug line, any other
// failure (a TLS handshake the client broke off) a refusal.
func (g *guard) lost(peer, reason string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, syscall.ECONNRESET) {
		g.log.Debug("rpc: connection closed before it authenticated", "peer", peer, "listen", g.listen, "cause", err)
	} else {
		g.log.Warn("client refused", "peer", peer, "listen", g.listen, "reason", reason)
	}
	return err
}

// peerName is how logs name the client of c: its address, or for a unix
// socket the process and user at the other end.
func peerName(c net.Conn) string {
	peer := c.RemoteAddr().String()
	if peer == "" || peer == "@" {
		peer = c.LocalAddr().Network()
		if uc, ok := c.(*net.UnixConn); ok {
			if rc, err := uc.SyscallConn(); err == nil {
				var cred *unix.Ucred
				rc.Control(func(fd uintptr) { cred, _ = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
				if cred != nil {
					peer = fmt.Sprintf("unix(pid %d, uid %d)", cred.Pid, cred.Uid)
				}
			}
		}
	}
	return peer
}

// prefixConn reads pre before the rest of the connection.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
