package fusefs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

func TestStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		want   fuse.Status
		logged bool
	}{
		{"nil", nil, fuse.OK, false},
		{"bare errno", syscall.EACCES, fuse.EACCES, false},
		{"meta error", &meta.Error{Op: "lookup", Ino: 1, Name: "x", Err: syscall.ENOENT}, fuse.ENOENT, false},
		{"wrapped twice", fmt.Errorf("commit: %w", &meta.Error{Op: "write", Ino: 7, Err: syscall.ENOSPC}), fuse.Status(syscall.ENOSPC), false},
		{"errno with cause", &meta.Error{Op: "x", Err: fmt.Errorf("%w: disk", syscall.EDQUOT)}, fuse.Status(syscall.EDQUOT), false},
		{"joined", errors.Join(errors.New("a"), syscall.ENOTEMPTY), fuse.Status(syscall.ENOTEMPTY), false},
		{"canceled", fmt.Errorf("upload: %w", context.Canceled), fuse.EINTR, false},
		{"deadline", context.DeadlineExceeded, fuse.Status(syscall.ETIMEDOUT), false},
		{"unknown", errors.New("pebble: corrupt"), fuse.EIO, true},
		{"zero errno", syscall.Errno(0), fuse.EIO, true},
		{"explicit EIO", &meta.Error{Op: "read", Ino: 3, Err: syscall.EIO}, fuse.EIO, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			f := &fileSystem{log: slog.New(slog.NewTextHandler(&buf, nil))}
			if got := f.status("op", 9, tc.err); got != tc.want {
				t.Fatalf("status(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if logged := buf.Len() > 0; logged != tc.logged {
				t.Fatalf("logged = %v (%q), want %v", logged, buf.String(), tc.logged)
			}
			if tc.logged && !strings.Contains(buf.String(), "ino=9") {
				t.Fatalf("log line lacks the inode: %q", buf.String())
			}
		})
	}
}

func TestLogErr(t *testing.T) {
	var buf bytes.Buffer
	f := &fileSystem{log: slog.New(slog.NewTextHandler(&buf, nil))}
	f.logErr("release", 5, nil)
	if buf.Len() != 0 {
		t.Fatalf("nil error logged: %q", buf.String())
	}
	f.logErr("release", 5, errors.New("boom"))
	if s := buf.String(); !strings.Contains(s, "level=ERROR") || !strings.Contains(s, "release failed") || !strings.Contains(s, "ino=5") {
		t.Fatalf("log = %q", s)
	}
}
