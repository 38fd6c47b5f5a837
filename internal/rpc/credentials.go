package rpc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// Credentials are how a client proves itself to a service and checks the
// service's identity, on every connection: the first and each reconnect.
type Credentials struct {
	// TLS, if set, makes every connection TLS 1.3 with this
	// configuration. An empty ServerName means the host of each tcp
	// address; unix and vsock addresses need it set.
	TLS *tls.Config
	// Token, if set, returns the token to present. It is called at every
	// connect, so that a token changed meanwhile is the one sent.
	Token func() ([]byte, error)
	// Clear allows sending the token without TLS to an address off this
	// machine (see Addr.Local).
	Clear bool
}

// Local reports whether a connection to a leaves no machine: a unix
// socket, a loopback TCP address, or vsock's local CID.
func (a Addr) Local() bool {
	switch a.Scheme {
	case "unix":
		return true
	case "vsock":
		return a.CID == 1 // VMADDR_CID_LOCAL
	}
	host, _, err := net.SplitHostPort(a.Host)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Refused is the error of a Hello the service refused.
type Refused struct {
	Addr   Addr
	Errno  syscall.Errno // EACCES: it did not accept the client's credentials
	Reason string
}

func (e *Refused) Error() string {
	return fmt.Sprintf("service at %s refused the session: %s", e.Addr, e.Reason)
}

func (e *Refused) Unwrap() error { return e.Errno }

// AuthError is a connection the client gave up on for want of
// credentials, or because the service did not prove who it is.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// Permanent reports whether err (of Connect, or of one attempt to
// reconnect) says that waiting will not help: every address refused the
// client's credentials, or the client refused the service's. Anything
// else (an address that does not answer) is transient.
func Permanent(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		for _, e := range errs {
			if !Permanent(e) {
				return false
			}
		}
		return len(errs) > 0
	}
	var r *Refused
	if errors.As(err, &r) {
		return r.Errno == syscall.EACCES
	}
	var a *AuthError
	return errors.As(err, &a)
}

// dial connects to a and, with credentials, runs TLS and presents the
// token: what comes next on the connection is the Hello.
func (cr *Credentials) dial(ctx context.Context, a Addr) (net.Conn, error) {
	if cr == nil {
		return Dial(ctx, a)
	}
	if cr.Token != nil && cr.TLS == nil && !cr.Clear && !a.Local() {
		return nil, &AuthError{errors.New("not sending the token unencrypted off this machine: give --tls-ca (for a listener with ?tls=1), or --insecure")}
	}
	var cfg *tls.Config
	if cr.TLS != nil {
		cfg = cr.TLS.Clone()
		cfg.MinVersion = tls.VersionTLS13
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(a.Host)
			if a.Scheme != "tcp" || err != nil {
				return nil, &AuthError{errors.New("TLS to a unix or vsock address needs the service's name (--tls-server-name)")}
			}
			cfg.ServerName = host
		}
	}
	var tok []byte
	if cr.Token != nil {
		var err error
		if tok, err = cr.Token(); err != nil {
			return nil, &AuthError{err}
		}
	}
	c, err := Dial(ctx, a)
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, tlsError(err)
		}
		c = tc
	}
	if tok != nil {
		pre, err := appendToken(nil, tok)
		if err != nil {
			c.Close()
			return nil, &AuthError{err}
		}
		if _, err := c.Write(pre); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// tlsError says what a failed client handshake means.
func tlsError(err error) error {
	var ve *tls.CertificateVerificationError
	var rh tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.As(err, &ve):
		return &AuthError{fmt.Errorf("the service's certificate is not trusted: %w", ve.Err)}
	case errors.As(err, &rh):
		return &AuthError{errors.New("the service does not speak TLS at this address (is its listener missing ?tls=1?)")}
	case errors.As(err, &op) && op.Op == "remote error":
		return &AuthError{fmt.Errorf("the service ended the TLS handshake: %w", err)}
	}
	return fmt.Errorf("TLS handshake: %w", err)
}

// A client with a token sends it before its Hello, inside TLS when the
// connection has it:
//
//	"FTOK"  u16 length (little-endian)  token
//
// Read as a frame header, "FTOK" is a frame longer than any Hello may
// be, so a listener tells a token from a Hello by the first four bytes.
// The service answers nothing to the token itself: a bad one gets the
// Hello refused with EACCES, a good one gets the Hello served.
var tokenMagic = [4]byte{'F', 'T', 'O', 'K'}

// maxToken bounds a token on the wire.
const maxToken = 1024

// appendToken appends the token preamble.
func appendToken(dst, tok []byte) ([]byte, error) {
	if len(tok) == 0 || len(tok) > maxToken {
		return nil, fmt.Errorf("a token of %d bytes; want 1 to %d", len(tok), maxToken)
	}
	dst = append(dst, tokenMagic[:]...)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(tok)))
	return append(dst, tok...), nil
}

// readToken reads the rest of a token preamble whose magic was read.
func readToken(r io.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	l := binary.LittleEndian.Uint16(n[:])
	if l == 0 || l > maxToken {
		return nil, errors.New("malformed token")
	}
	tok := make([]byte, l)
	if _, err := io.ReadFull(r, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// tokenMatches compares in time independent of where, and whether, the
// tokens differ: it compares their digests, whose length is fixed.
func tokenMatches(got []byte, want *[sha256.Size]byte) bool {
	g := sha256.Sum256(got)
	return subtle.ConstantTimeCompare(g[:], want[:]) == 1
}
