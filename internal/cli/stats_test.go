package cli

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/metrics"
)

// ferry stats refuses what it cannot show with one line, and bad flags
// with its usage.
func TestStatsErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"stats"}, 2, "usage: ferry stats MOUNTPOINT|ferry://HOST:PORT|http://HOST:PORT"},
		{[]string{"stats", "--interval", "1ms", dir}, 2, "--interval must be at least 10ms"},
		{[]string{"stats", dir}, 1, "ferry: stats: " + dir + " is not a mount point\n"},
		{[]string{"stats", "/proc"}, 1, "ferry: stats: /proc is a proc mount, not a Ferry mount\n"},
		{[]string{"stats", "ferry://127.0.0.1:1"}, 1, "ferry: stats: "},
	} {
		_, errs, code := ferry(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("ferry %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
		if tc.code == 1 && strings.Count(errs, "\n") != 1 {
			t.Errorf("ferry %q: error is not one line: %q", tc.args, errs)
		}
	}
}

// A --metrics address that cannot be listened on fails serve and mount
// before they open (or format) anything.
func TestMetricsAddressRefused(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mount", "VOL", t.TempDir(), "--metrics", "bogus"}, `metrics address "bogus": want HOST:PORT`},
		{[]string{"mount", "VOL", t.TempDir(), "--metrics", busy.Addr().String()}, "address already in use"},
		{[]string{"serve", "VOL", "--listen", "tcp://127.0.0.1:0", "--metrics", busy.Addr().String()}, "address already in use"},
	} {
		vol := filepath.Join(t.TempDir(), "vol")
		for i, a := range tc.args {
			if a == "VOL" {
				tc.args[i] = vol
			}
		}
		_, errs, code := ferry(t, tc.args...)
		if code != 1 || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("ferry %q: exit %d, stderr %q; want exit 1 and one line with %q", tc.args, code, errs, tc.want)
		}
		if _, err := os.Stat(vol); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ferry %q made the volume: %v", tc.args, err)
		}
	}
}

// On a terminal each view replaces the last and the cursor comes back
// at the end; in a pipe views follow each other as plain text.
func TestRunStatsTerminal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := metrics.New()
	srv := metrics.Listen(ln, r, slog.New(slog.DiscardHandler))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src, err := metrics.Open(ctx, "http://"+ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	var tty bytes.Buffer
	if err := runStats(ctx, &tty, src, 10*time.Millisecond, true, true); err != nil {
		t.Fatal(err)
	}
	out := tty.String()
	if !strings.HasPrefix(out, termHideCursor+termClear+"ferry stats  http://") || !strings.HasSuffix(out, termShowCursor) {
		t.Errorf("terminal output %q", out)
	}

	// Live in a pipe, until the context ends (here after the third
	// view): no control characters, and a clean exit.
	lctx, lcancel := context.WithCancel(ctx)
	defer lcancel()
	pipe := &viewCounter{stop: 3, cancel: lcancel}
	if err := runStats(lctx, pipe, src, 10*time.Millisecond, false, false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(pipe.b.String(), "\x1b") || strings.Count(pipe.b.String(), "ferry stats  ") != 3 {
		t.Errorf("piped output %q", pipe.b.String())
	}
}

// viewCounter keeps what is written and cancels after stop writes.
type viewCounter struct {
	b      bytes.Buffer
	n      int
	stop   int
	cancel func()
}

func (v *viewCounter) Write(p []byte) (int, error) {
	if v.n++; v.n == v.stop {
		v.cancel()
	}
	return v.b.Write(p)
}
