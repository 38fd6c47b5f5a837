package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"testing"
	"testing/iotest"
)

// pattern returns n bytes that differ from their neighbours, so a piece
// read into the wrong place shows.
func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + i>>8)
	}
	return p
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

func TestFrameRoundTrip(t *testing.T) {
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"half", iotest.HalfReader},
		{"odd chunks", func(r io.Reader) io.Reader { return chunkReader{r, 4093} }},
	}
	tests := []struct {
		name string
		h    Header
		n    int
	}{
		{"empty call", Header{Kind: KindCall, Op: OpSync, ID: 1}, 0},
		{"small reply", Header{Kind: KindReply, Op: OpGetAttr, ID: math.MaxUint64}, 64},
		{"push", Header{Kind: KindPush, Op: OpRecall, ID: 0}, 100},
		{"unknown op", Header{Kind: KindCall, Op: math.MaxUint16, ID: 5}, 3},
		{"one piece", Header{Kind: KindCall, Op: OpBlobPut, ID: 6}, readPiece},
		{"one piece and a byte", Header{Kind: KindCall, Op: OpBlobPut, ID: 7}, readPiece + 1},
		{"large", Header{Kind: KindReply, Op: OpBlobGet, ID: 8}, 3<<20 + 17},
	}
	for _, tt := range tests {
		payload := pattern(tt.n)
		frame := AppendFrame(nil, tt.h, payload)
		if len(frame) != HeaderSize+tt.n {
			t.Fatalf("%s: frame of %d bytes, want %d", tt.name, len(frame), HeaderSize+tt.n)
		}
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				h, p, err := ReadFrame(rd.wrap(bytes.NewReader(frame)), 0)
				if err != nil {
					t.Fatalf("ReadFrame: %v", err)
				}
				if h != tt.h {
					t.Fatalf("header %+v, want %+v", h, tt.h)
				}
				if !bytes.Equal(p, payload) {
					t.Fatalf("payload of %d bytes differs from the %d sent", len(p), len(payload))
				}
			})
		}
	}
}

func TestFrameStream(t *testing.T) {
	var stream []byte
	var want []Header
	for i, op := range Ops() {
		h := Header{Kind: KindCall, Op: op, ID: uint64(i)}
		stream = AppendFrame(stream, h, pattern(i))
		want = append(want, h)
	}
	r := bytes.NewReader(stream)
	for i, w := range want {
		h, p, err := ReadFrame(r, 1<<10)
		if err != nil || h != w || !bytes.Equal(p, pattern(i)) {
			t.Fatalf("frame %d: %+v %d bytes %v; want %+v", i, h, len(p), err, w)
		}
	}
	if _, _, err := ReadFrame(r, 0); err != io.EOF {
		t.Fatalf("at the end of the stream: %v, want io.EOF", err)
	}
}

func TestBeginEndFrame(t *testing.T) {
	h := Header{Kind: KindReply, Op: OpBlobGet, ID: 42}
	payload := pattern(1000)
	for _, prefix := range [][]byte{nil, []byte("earlier frame bytes")} {
		buf, start := BeginFrame(append([]byte(nil), prefix...), h)
		if start != len(prefix) {
			t.Fatalf("start %d, want %d", start, len(prefix))
		}
		buf = append(buf, payload...)
		EndFrame(buf, start)
		want := AppendFrame(append([]byte(nil), prefix...), h, payload)
		if !bytes.Equal(buf, want) {
			t.Fatalf("BeginFrame/EndFrame differs from AppendFrame")
		}
		gh, gp, err := ReadFrame(bytes.NewReader(buf[start:]), 0)
		if err != nil || gh != h || !bytes.Equal(gp, payload) {
			t.Fatalf("read back %+v %v", gh, err)
		}
	}
	// An empty payload: EndFrame leaves the length AppendFrame writes.
	buf, start := BeginFrame(nil, h)
	EndFrame(buf, start)
	if !bytes.Equal(buf, AppendFrame(nil, h, nil)) {
		t.Fatalf("empty frame differs")
	}
}

// header returns a raw frame header.
func header(length uint32, kind Kind, flags uint8, op Op, id uint64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, length)
	b = append(b, byte(kind), flags)
	b = binary.LittleEndian.AppendUint16(b, uint16(op))
	return binary.LittleEndian.AppendUint64(b, id)
}

// guardReader serves a header and fails the test if anything past it is
// read.
type guardReader struct {
	t    *testing.T
	data []byte
	read int
}

func (g *guardReader) Read(p []byte) (int, error) {
	if g.read >= HeaderSize {
		g.t.Fatalf("read past the header (%d bytes asked)", len(p))
	}
	n := copy(p, g.data[g.read:HeaderSize])
	g.read += n
	return n, nil
}

func TestReadFrameRefusesHeader(t *testing.T) {
	const max = 1 << 16
	tests := []struct {
		name string
		hb   []byte
		want error
	}{
		{"length zero", header(0, KindCall, 0, OpSync, 1), ErrMalformed},
		{"length below header", header(HeaderSize-5, KindCall, 0, OpSync, 1), ErrMalformed},
		{"one over limit", header(max-3, KindCall, 0, OpSync, 1), ErrFrameTooLarge},
		{"max length", header(math.MaxUint32, KindCall, 0, OpSync, 1), ErrFrameTooLarge},
		{"too large beats bad kind", header(math.MaxUint32, 0, 0xff, OpSync, 1), ErrFrameTooLarge},
		{"kind zero", header(12, 0, 0, OpSync, 1), ErrMalformed},
		{"kind past push", header(12, KindPush+1, 0, OpSync, 1), ErrMalformed},
		{"kind 255", header(12, 255, 0, OpSync, 1), ErrMalformed},
		{"flag bit 0", header(12, KindCall, 1, OpSync, 1), ErrMalformed},
		{"flag bit 7", header(12, KindReply, 0x80, OpSync, 1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The header is followed by a payload that must not be touched.
			g := &guardReader{t: t, data: append(tt.hb, make([]byte, 64)...)}
			_, p, err := ReadFrame(g, max)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadFrame = %v, want %v", err, tt.want)
			}
			if errors.Is(err, ErrFrameTooLarge) && errors.Is(err, ErrMalformed) {
				t.Fatalf("%v is both too large and malformed", err)
			}
			if p != nil || g.read != HeaderSize {
				t.Fatalf("read %d bytes, payload %d; want the header only", g.read, len(p))
			}
			if _, _, perr := ParseHeader(tt.hb, max); !errors.Is(perr, tt.want) {
				t.Fatalf("ParseHeader = %v, want %v", perr, tt.want)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	h := Header{Kind: KindPush, Op: OpRecall, ID: 1<<63 + 5}
	frame := AppendFrame(nil, h, make([]byte, 100))
	got, n, err := ParseHeader(frame, 0x1000)
	if err != nil || got != h || n != 100 {
		t.Fatalf("ParseHeader = %+v, %d, %v", got, n, err)
	}
	if _, _, err := ParseHeader(frame[:HeaderSize-1], 0x1000); !IsMalformed(err) {
		t.Fatalf("short header: %v", err)
	}
	// The limit counts the whole frame, length field included.
	if _, _, err := ParseHeader(frame, len(frame)); err != nil {
		t.Fatalf("frame at the limit: %v", err)
	}
	if _, _, err := ParseHeader(frame, len(frame)-1); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("frame one over the limit: %v", err)
	}
}

func TestReadFrameDefaultMax(t *testing.T) {
	// max <= 0 means DefaultMaxFrame: a frame of exactly that size is
	// accepted (and then runs out of bytes); one more byte is refused.
	at := header(DefaultMaxFrame-4, KindCall, 0, OpBlobPut, 1)
	for _, max := range []int{0, -1} {
		if _, _, err := ReadFrame(bytes.NewReader(at), max); err != io.ErrUnexpectedEOF {
			t.Fatalf("max %d, frame at the default limit: %v, want io.ErrUnexpectedEOF", max, err)
		}
		over := header(DefaultMaxFrame-3, KindCall, 0, OpBlobPut, 1)
		if _, _, err := ReadFrame(bytes.NewReader(over), max); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("max %d, frame over the default limit: %v", max, err)
		}
	}
}

func TestReadFrameTruncated(t *testing.T) {
	small := AppendFrame(nil, Header{Kind: KindCall, Op: OpLookup, ID: 3}, pattern(50))
	large := AppendFrame(nil, Header{Kind: KindReply, Op: OpBlobGet, ID: 4}, pattern(2*readPiece+5))
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"nothing", nil, io.EOF},
		{"part of a header", small[:7], io.ErrUnexpectedEOF},
		{"header only", small[:HeaderSize], io.ErrUnexpectedEOF},
		{"small payload short by one", small[:len(small)-1], io.ErrUnexpectedEOF},
		{"large payload, first piece", large[:HeaderSize+10], io.ErrUnexpectedEOF},
		{"large payload at a piece boundary", large[:HeaderSize+readPiece], io.ErrUnexpectedEOF},
		{"large payload short by one", large[:len(large)-1], io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p, err := ReadFrame(bytes.NewReader(tt.data), 0)
			if err != tt.want {
				t.Fatalf("ReadFrame = %v, want %v", err, tt.want)
			}
			if p != nil {
				t.Fatalf("failed read returned %d payload bytes", len(p))
			}
		})
	}

	// A reader's own error comes back as it is.
	boom := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(large[:HeaderSize+readPiece+3]), iotest.ErrReader(boom))
	if _, _, err := ReadFrame(r, 0); err != boom {
		t.Fatalf("ReadFrame = %v, want %v", err, boom)
	}
}

// TestReadFrameAnnouncedIsNotAllocated: a peer that announces a 64 MiB
// frame and sends 10 bytes costs about one read piece, not 64 MiB.
func TestReadFrameAnnouncedIsNotAllocated(t *testing.T) {
	const announced = 64 << 20
	data := append(header(HeaderSize-4+announced, KindCall, 0, OpBlobPut, 1), pattern(10)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := ReadFrame(bytes.NewReader(data), MaxFrame)
	runtime.ReadMemStats(&after)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("ReadFrame = %v, want io.ErrUnexpectedEOF", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 8<<20 {
		t.Fatalf("allocated %d bytes for 10 bytes received", d)
	}
}
