package service

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/ferryfs/ferry/internal/lease"
	"github.com/ferryfs/ferry/internal/wire"
)

// TestSessionEndedLine checks the one line of a session's end: its id,
// client and address, why, and for an expiry its cause, at Warn when a
// recall timed out.
func TestSessionEndedLine(t *testing.T) {
	var buf bytes.Buffer
	s := New(Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	defer s.Close()
	sess := &session{id: 42, client: "host:7", peer: "127.0.0.1:5000", pending: map[lease.RecallID]*wire.Recall{}}
	for _, tt := range []struct {
		pending bool
		why     string
		want    string
	}{
		{false, "closed by the client", `level=INFO msg="session ended" session=42 client=host:7 peer=127.0.0.1:5000 why="closed by the client" open_files=3`},
		{false, "expired", `level=INFO msg="session ended" session=42 client=host:7 peer=127.0.0.1:5000 why=expired cause="lease period" open_files=3`},
		{true, "expired", `level=WARN msg="session ended" session=42 client=host:7 peer=127.0.0.1:5000 why=expired cause="recall timeout" open_files=3`},
	} {
		buf.Reset()
		clear(sess.pending)
		if tt.pending {
			sess.pending[1] = &wire.Recall{}
		}
		cause := ""
		if tt.why == "expired" {
			cause = expiryCause(sess)
		}
		s.logEnded(sess, tt.why, cause, 3)
		if got := buf.String(); !strings.HasSuffix(strings.TrimSpace(got), tt.want) || strings.Count(got, "\n") != 1 {
			t.Errorf("logged %q, want one line ending %q", got, tt.want)
		}
	}
}
