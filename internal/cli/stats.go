package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ferryfs/ferry/internal/bench"
	"github.com/ferryfs/ferry/internal/metrics"
)

const statsSynopsis = "MOUNTPOINT|ferry://HOST:PORT|http://HOST:PORT [--once] [--interval D]"

// Terminal control: clear the screen and home the cursor; hide and show
// the cursor.
const (
	termClear      = "\x1b[H\x1b[2J"
	termHideCursor = "\x1b[?25l"
	termShowCursor = "\x1b[?25h"
)

func cmdStats(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "stats", statsSynopsis)
	once := fl.Bool("once", false, "print one view (rates over one interval) and exit")
	interval := fl.Duration("interval", time.Second, "time between refreshes")
	pos, err := parseArgs(fl, args, 1)
	if err != nil {
		return err
	}
	if *interval < 10*time.Millisecond {
		fmt.Fprintf(e.stderr, "ferry stats: --interval must be at least 10ms\n")
		fl.Usage()
		return errUsage
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	src, err := metrics.Open(octx, pos[0])
	cancel()
	if err != nil {
		return err
	}
	defer src.Close()
	return runStats(ctx, e.stdout, src, *interval, *once, bench.IsTerminal(e.stdout))
}

// runStats shows src every interval until ctx ends (once: a single view,
// after one interval, so that it has rates). On a terminal each view
// replaces the last; elsewhere views follow each other, without control
// characters.
func runStats(ctx context.Context, w io.Writer, src *metrics.Source, interval time.Duration, once, tty bool) error {
	prev, err := scrape(ctx, src)
	if err != nil {
		return err
	}
	if tty {
		io.WriteString(w, termHideCursor)
		defer io.WriteString(w, termShowCursor)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil // SIGINT or SIGTERM: the way out of the live view
		case <-t.C:
			if ctx.Err() != nil {
				return nil
			}
		}
		cur, err := scrape(ctx, src)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var b bytes.Buffer
		if tty {
			b.WriteString(termClear)
		} else if !once {
			b.WriteString("\n")
		}
		if err := metrics.Render(&b, src.What, prev, cur); err != nil {
			return err
		}
		if _, err := w.Write(b.Bytes()); err != nil {
			return err
		}
		if once {
			return nil
		}
		prev = cur
	}
}

func scrape(ctx context.Context, src *metrics.Source) (metrics.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	f, err := src.Fetch(ctx)
	if err != nil {
		return metrics.Snapshot{}, err
	}
	return metrics.Snapshot{At: time.Now(), F: f}, nil
}
