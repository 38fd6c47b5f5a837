package pgkv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Stable kinds of the errors the store returns; test with errors.Is.
var (
	// ErrUnreachable: no connection to the server could be made, or an
	// open one broke.
	ErrUnreachable = errors.New("PostgreSQL unreachable")
	// ErrAuth: the server refused the user or the password.
	ErrAuth = errors.New("PostgreSQL refused the credentials")
	// ErrNoDatabase: the database the URL names does not exist.
	ErrNoDatabase = errors.New("no such PostgreSQL database")
)

// Error is a failed operation of the store: what was done, on which
// server, and why, on one line. It unwraps to its kind (if any) and to
// the cause.
type Error struct {
	Op     string // "connect", "get", "commit", ...
	Where  string // host:port/database
	Reason string
	Kind   error // ErrUnreachable, ErrAuth, ErrNoDatabase or nil
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("pgkv: %s %s: %s", e.Op, e.Where, e.Reason)
}

func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// errorf describes err, which op met talking to the server. Context errors
// pass through unchanged, so that callers can tell a cancellation.
func (s *Store) errorf(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	e := &Error{Op: op, Where: s.where, Err: err, Reason: firstLine(err)}
	var pe *pgconn.PgError
	var ne net.Error
	var errno syscall.Errno
	switch {
	case errors.As(err, &pe):
		e.Reason = pe.Message
		switch pe.Code {
		case "28P01", "28000":
			e.Kind = ErrAuth
		case "3D000":
			e.Kind = ErrNoDatabase
		case "57P01", "57P02", "57P03": // admin shutdown, crash shutdown, cannot connect now
			e.Kind = ErrUnreachable
		}
	case errors.As(err, &errno) && (errno == syscall.ECONNREFUSED || errno == syscall.EHOSTUNREACH ||
		errno == syscall.ENETUNREACH || errno == syscall.ECONNRESET || errno == syscall.EPIPE || errno == syscall.ENOENT):
		e.Kind, e.Reason = ErrUnreachable, errno.Error()
	case errors.As(err, &ne) && ne.Timeout():
		e.Kind, e.Reason = ErrUnreachable, "no answer (timed out)"
	case isConnect(err) && (errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout")):
		e.Kind, e.Reason = ErrUnreachable, "no answer (timed out)"
	case isConnect(err), pgconn.SafeToRetry(err), strings.Contains(err.Error(), "conn closed"),
		strings.Contains(err.Error(), "unexpected EOF"), errors.Is(err, net.ErrClosed):
		e.Kind = ErrUnreachable
		if !isConnect(err) {
			e.Reason = "connection lost: " + e.Reason
		}
	}
	return e
}

func isConnect(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// isCode reports whether err is a server error with one of the SQLSTATEs.
func isCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

// retryable reports whether a transaction that failed with err may simply
// run again: a serialization failure or a deadlock.
func retryable(err error) bool { return isCode(err, "40001", "40P01") }

// firstLine is err's message on one line, without pgx's "failed to
// connect to `user=... database=...`:" preamble, which Error replaces.
func firstLine(err error) string {
	s := err.Error()
	if i := strings.Index(s, "`: "); i >= 0 && strings.HasPrefix(s, "failed to connect to `") {
		s = s[i+3:]
	}
	return strings.Join(strings.Fields(s), " ")
}
