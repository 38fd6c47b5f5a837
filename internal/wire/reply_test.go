package wire

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestReplyOK(t *testing.T) {
	for _, s := range opSamples(t) {
		if Reply(s.op) == nil || reflect.TypeOf(Reply(s.op)) != reflect.TypeOf(s.msg) {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			p := AppendReply(nil, 0, "ignored", s.msg)
			got := blank(s.msg)
			if err := DecodeReply(s.op, p, got); err != nil {
				t.Fatalf("DecodeReply: %v", err)
			}
			if !reflect.DeepEqual(got, s.msg) {
				t.Fatalf("got %+v, want %+v", got, s.msg)
			}
		})
	}
}

func TestReplyErrno(t *testing.T) {
	long := strings.Repeat("r", MaxReason+10)
	tests := []struct {
		name       string
		errno      syscall.Errno
		reason     string
		msg        Message // ignored by an error reply
		wantReason string
		wantIs     error
	}{
		{"enoent", syscall.ENOENT, "lookup 1/x: no such entry", nil, "lookup 1/x: no such entry", fs.ErrNotExist},
		{"eacces with a message", syscall.EACCES, "denied", &AttrReply{Attr: testAttr}, "denied", fs.ErrPermission},
		{"empty reason", syscall.EIO, "", nil, "", syscall.EIO},
		{"reason truncated", syscall.ENOSPC, long, nil, long[:MaxReason], syscall.ENOSPC},
		{"large errno", syscall.Errno(0xffffffff), "?", nil, "?", syscall.Errno(0xffffffff)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := AppendReply(nil, tt.errno, tt.reason, tt.msg)
			reply := &AttrReply{}
			err := DecodeReply(OpLookup, p, reply)
			if err == nil {
				t.Fatal("DecodeReply succeeded")
			}
			var errno syscall.Errno
			if !errors.As(err, &errno) || errno != tt.errno {
				t.Fatalf("errors.As errno = %v, want %v (err %v)", errno, tt.errno, err)
			}
			if !errors.Is(err, tt.errno) || !errors.Is(err, tt.wantIs) {
				t.Fatalf("errors.Is(%v, %v/%v) = false", err, tt.errno, tt.wantIs)
			}
			var re *RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("not a *RemoteError: %T", err)
			}
			if re.Op != OpLookup || re.Errno != tt.errno || re.Reason != tt.wantReason {
				t.Fatalf("got %+v", re)
			}
			if IsMalformed(err) {
				t.Fatalf("a remote error is not malformed")
			}
			if *reply != (AttrReply{}) {
				t.Fatalf("error reply filled the message: %+v", reply)
			}
		})
	}
}

func TestReplyEmptyAndNil(t *testing.T) {
	// An op whose reply is Empty: AppendReply with nil writes just the errno.
	p := AppendReply(nil, 0, "", nil)
	if len(p) != 4 {
		t.Fatalf("ok reply without message is %d bytes", len(p))
	}
	if err := DecodeReply(OpSync, p, nil); err != nil {
		t.Fatalf("DecodeReply nil msg: %v", err)
	}
	if err := DecodeReply(OpSync, p, &Empty{}); err != nil {
		t.Fatalf("DecodeReply Empty: %v", err)
	}
}

func TestReplyMalformed(t *testing.T) {
	errReply := AppendReply(nil, syscall.ENOENT, "gone", nil)
	okReply := AppendReply(nil, 0, "", &Ino{Ino: 1})
	overlong := NewEncoder(nil)
	overlong.U32(uint32(syscall.EIO))
	overlong.String(strings.Repeat("x", MaxReason+1))
	tests := []struct {
		name string
		p    []byte
		msg  Message
	}{
		{"empty", nil, &Ino{}},
		{"short errno", []byte{0, 0}, &Ino{}},
		{"ok, short message", okReply[:len(okReply)-1], &Ino{}},
		{"ok, trailing byte", append(okReply[:len(okReply):len(okReply)], 0), &Ino{}},
		{"ok, bytes for an empty reply", okReply, nil},
		{"error, no reason", errReply[:4], nil},
		{"error, short reason", errReply[:len(errReply)-1], nil},
		{"error, trailing byte", append(errReply[:len(errReply):len(errReply)], 0), nil},
		{"error, reason over limit", overlong.Bytes(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DecodeReply(OpGetAttr, tt.p, tt.msg)
			if !IsMalformed(err) {
				t.Fatalf("DecodeReply = %v, want ErrMalformed", err)
			}
			var re *RemoteError
			if errors.As(err, &re) {
				t.Fatalf("malformed reply reported as remote error %v", re)
			}
		})
	}
}

func TestRemoteErrorText(t *testing.T) {
	err := &RemoteError{Op: OpUnlink, Errno: syscall.ENOTEMPTY, Reason: "unlink 1/d: directory not empty"}
	if got, want := err.Error(), "unlink: unlink 1/d: directory not empty"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
