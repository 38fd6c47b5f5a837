package wire

import (
	"errors"
	"fmt"
	"syscall"
)

// AppendReply appends a Reply payload to dst: errno 0 and msg, or errno
// and reason.
func AppendReply(dst []byte, errno syscall.Errno, reason string, msg Message) []byte {
	e := Encoder{b: dst}
	e.U32(uint32(errno))
	if errno != 0 {
		if len(reason) > MaxReason {
			reason = reason[:MaxReason]
		}
		e.String(reason)
		return e.b
	}
	if msg != nil {
		msg.Encode(&e)
	}
	return e.b
}

// ReasonSessionExpired is the reason of the ESTALE a service answers a
// call of a session it expired with: the client opens a new session.
const ReasonSessionExpired = "session expired"

// RemoteError is a failure the service reported: an errno and its reason.
// errors.As(err, &syscall.Errno) finds the errno.
type RemoteError struct {
	Op     Op
	Errno  syscall.Errno
	Reason string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("%v: %s", e.Op, e.Reason)
}

func (e *RemoteError) Unwrap() error { return e.Errno }

// DecodeReply decodes a Reply payload of op into msg, or returns the
// service's *RemoteError.
func DecodeReply(op Op, p []byte, msg Message) error {
	d := NewDecoder(p)
	errno := syscall.Errno(d.U32())
	if errno != 0 {
		reason := d.String(MaxReason)
		if err := d.Finish(); err != nil {
			return err
		}
		return &RemoteError{Op: op, Errno: errno, Reason: reason}
	}
	if msg == nil {
		msg = &Empty{}
	}
	msg.Decode(d)
	return d.Finish()
}

// IsMalformed reports whether err is a decoding failure.
func IsMalformed(err error) bool { return errors.Is(err, ErrMalformed) }
