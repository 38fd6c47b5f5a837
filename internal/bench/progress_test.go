package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressPlainLines(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, false, 2, time.Now)
	p.start("run 1/1 ferry: create 3 files", 3, false)
	for i := int64(1); i <= 3; i++ {
		p.step(i)
	}
	p.end()
	p.note("cannot drop the page cache")
	p.start("run 1/1 ferry: write 4 MiB", 4<<20, true)
	p.step(4 << 20)
	p.end()
	p.finish()
	want := "bench: run 1/1 ferry: create 3 files\n" +
		"bench: cannot drop the page cache\n" +
		"bench: run 1/1 ferry: write 4 MiB\n"
	if got := b.String(); got != want {
		t.Errorf("plain progress:\n%q\nwant\n%q", got, want)
	}
}

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	p := newProgress(&b, true, 3, clock)

	p.start("create", 128, false)
	if !strings.HasSuffix(b.String(), "\r\x1b[K[------------------------]   0%  create  0/128") {
		t.Fatalf("first frame = %q", b.String())
	}
	b.Reset()
	p.step(64) // same instant: throttled
	if b.Len() != 0 {
		t.Errorf("step within %v redrew: %q", redrawEvery, b.String())
	}
	now = now.Add(redrawEvery)
	p.step(64)
	if want := "\r\x1b[K[####--------------------]  16%  create  64/128"; b.String() != want {
		t.Errorf("frame at 64/128 = %q, want %q", b.String(), want)
	}
	b.Reset()
	p.step(128) // the last step of a phase always draws
	p.end()
	if want := "\r\x1b[K[########----------------]  33%  create  128/128"; b.String() != want {
		t.Errorf("frame at 128/128 = %q, want %q", b.String(), want)
	}
	b.Reset()
	p.step(128) // nothing new to show
	if b.Len() != 0 {
		t.Errorf("repeated step redrew: %q", b.String())
	}
	p.start("drop page cache", 0, false)
	p.end()
	if want := "\r\x1b[K[########----------------]  33%  drop page cache"; b.String() != want {
		t.Errorf("frame of a phase without units = %q, want %q", b.String(), want)
	}
	b.Reset()
	p.note("hello")
	if want := "\r\x1b[Kbench: hello\n"; b.String() != want {
		t.Errorf("note over a bar = %q, want %q", b.String(), want)
	}
	b.Reset()
	p.start("read", 2<<20, true)
	p.step(2 << 20)
	p.end()
	p.finish()
	if !strings.Contains(b.String(), "100%  read  2 MiB/2 MiB") || !strings.HasSuffix(b.String(), "\r\x1b[K") {
		t.Errorf("last frames = %q", b.String())
	}
}

func TestProgressNilWriter(t *testing.T) {
	p := newProgress(nil, true, 1, time.Now)
	if p.bar || p.w == nil {
		t.Fatalf("newProgress(nil) = %+v, want a bar-less discarding reporter", p)
	}
	p.start("x", 1, false)
	p.step(1)
	p.end()
	p.finish()
}
