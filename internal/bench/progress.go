package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress reports the benchmark's advance to people. On a terminal it
// redraws one bar line in place (at most every redrawEvery); elsewhere it
// writes one line per phase. Write errors are ignored: progress is advisory.
type progress struct {
	w      io.Writer
	bar    bool
	now    func() time.Time
	phases int // phases in the whole benchmark
	done   int // phases finished

	label string
	units int64 // units of work in the current phase
	bytes bool  // units are bytes rather than operations
	last  time.Time
	shown int64 // units shown by the last frame of this phase
	drawn bool  // a bar line is on screen
}

const (
	redrawEvery = 100 * time.Millisecond
	barWidth    = 24
)

func newProgress(w io.Writer, bar bool, phases int, now func() time.Time) *progress {
	if w == nil {
		w = io.Discard
		bar = false
	}
	return &progress{w: w, bar: bar, now: now, phases: max(phases, 1)}
}

// start begins a phase of units operations (or bytes, if bytes is set).
func (p *progress) start(label string, units int64, bytes bool) {
	p.label, p.units, p.bytes = label, units, bytes
	if !p.bar {
		fmt.Fprintf(p.w, "bench: %s\n", label)
		return
	}
	p.draw(0)
}

// step reports that n units of the current phase are done. It is cheap
// enough to call once per operation.
func (p *progress) step(n int64) {
	if !p.bar || (n%64 != 0 && n != p.units) || n == p.shown {
		return
	}
	if t := p.now(); n == p.units || t.Sub(p.last) >= redrawEvery {
		p.draw(n)
	}
}

// end finishes the current phase.
func (p *progress) end() {
	p.done = min(p.done+1, p.phases)
}

// note prints a message on its own line, above the bar if one is drawn.
func (p *progress) note(msg string) {
	if p.bar && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
	fmt.Fprintf(p.w, "bench: %s\n", msg)
}

// finish removes the bar so that what follows starts on a clean line.
func (p *progress) finish() {
	if p.bar && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func (p *progress) draw(n int64) {
	p.last, p.shown = p.now(), n
	frac := float64(p.done)
	if p.units > 0 {
		frac += float64(min(n, p.units)) / float64(p.units)
	}
	frac /= float64(p.phases)
	fill := int(frac * barWidth)
	fmt.Fprintf(p.w, "\r\x1b[K[%s%s] %3d%%  %s",
		strings.Repeat("#", fill), strings.Repeat("-", barWidth-fill), int(frac*100), p.label)
	if p.units > 0 {
		fmt.Fprintf(p.w, "  %s/%s", p.amount(n), p.amount(p.units))
	}
	p.drawn = true
}

func (p *progress) amount(n int64) string {
	if p.bytes {
		return FormatSize(n)
	}
	return groupDigits(n)
}
