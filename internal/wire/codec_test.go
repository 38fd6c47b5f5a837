package wire

import (
	"errors"
	"math"
	"testing"
)

func TestDecoderPrimitives(t *testing.T) {
	p := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	d := NewDecoder(p)
	if d.U8() != 1 || d.U16() != 0x0302 || d.U32() != 0x07060504 || d.U64() != 0x0f0e0d0c0b0a0908 {
		t.Fatalf("fixed-width reads wrong: %v", d.Err())
	}
	if d.Remaining() != 0 || d.Finish() != nil {
		t.Fatalf("remaining %d, finish %v", d.Remaining(), d.Finish())
	}

	e := NewEncoder(nil)
	e.I64(-2)
	if got := NewDecoder(e.Bytes()).I64(); got != -2 {
		t.Fatalf("I64 = %d", got)
	}
	e.Reset()
	if len(e.Bytes()) != 0 || cap(e.Bytes()) < 8 {
		t.Fatalf("Reset: len %d cap %d", len(e.Bytes()), cap(e.Bytes()))
	}

	// The first failure sticks; later reads give zeros.
	d = NewDecoder([]byte{0xff, 0xff})
	if d.U32() != 0 || d.Err() == nil {
		t.Fatal("short U32 did not fail")
	}
	first := d.Err()
	d.Fail("second")
	if d.U8() != 0 || d.Err() != first || d.Remaining() != 2 {
		t.Fatalf("after a failure: err %v remaining %d", d.Err(), d.Remaining())
	}
	if !errors.Is(d.Finish(), ErrMalformed) {
		t.Fatalf("Finish = %v", d.Finish())
	}
}

func TestDecoderBool(t *testing.T) {
	tests := []struct {
		in   []byte
		want bool
		ok   bool
	}{
		{[]byte{0}, false, true},
		{[]byte{1}, true, true},
		{[]byte{2}, false, false},
		{[]byte{0xff}, false, false},
		{nil, false, false},
	}
	for _, tt := range tests {
		d := NewDecoder(tt.in)
		got := d.Bool()
		if got != tt.want || (d.Err() == nil) != tt.ok {
			t.Errorf("Bool(%v) = %v, %v; want %v, ok %v", tt.in, got, d.Err(), tt.want, tt.ok)
		}
		if d.Err() != nil && !IsMalformed(d.Err()) {
			t.Errorf("Bool(%v): %v is not ErrMalformed", tt.in, d.Err())
		}
	}
}

func TestDecoderCount(t *testing.T) {
	tests := []struct {
		name    string
		count   uint32
		minSize int
		rest    int
		want    int
		ok      bool
	}{
		{"zero", 0, 8, 0, 0, true},
		{"fits exactly", 4, 8, 32, 4, true},
		{"fits with room", 4, 8, 100, 4, true},
		{"one byte short", 4, 8, 31, 0, false},
		{"max count", math.MaxUint32, 1, 1 << 10, 0, false},
		{"overflowing product", math.MaxUint32, math.MaxInt32, 1 << 10, 0, false},
		{"min size zero counts as one", 5, 0, 5, 5, true},
		{"min size zero, short", 6, 0, 5, 0, false},
		{"negative min size counts as one", 3, -8, 3, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEncoder(nil)
			e.U32(tt.count)
			d := NewDecoder(append(e.Bytes(), make([]byte, tt.rest)...))
			got := d.Count(tt.minSize)
			if got != tt.want || (d.Err() == nil) != tt.ok {
				t.Fatalf("Count = %d, %v; want %d, ok %v", got, d.Err(), tt.want, tt.ok)
			}
			if !tt.ok && !IsMalformed(d.Err()) {
				t.Fatalf("%v is not ErrMalformed", d.Err())
			}
			if d.Remaining() != tt.rest {
				t.Fatalf("Count consumed %d bytes past its prefix", tt.rest-d.Remaining())
			}
		})
	}
}

func TestDecoderStrings(t *testing.T) {
	tests := []struct {
		name   string
		length uint32
		max    int
		avail  int
		ok     bool
	}{
		{"empty", 0, 0, 0, true},
		{"at limit", 16, 16, 16, true},
		{"over limit", 17, 16, 17, false},
		{"over limit, nothing there", math.MaxUint32, MaxName, 0, false},
		{"past the end", 10, 16, 9, false},
		{"limit larger than the payload", 10, math.MaxInt, 9, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEncoder(nil)
			e.U32(tt.length)
			p := append(e.Bytes(), pattern(tt.avail)...)
			d := NewDecoder(p)
			s := d.String(tt.max)
			if (d.Err() == nil) != tt.ok {
				t.Fatalf("String = %q, %v; want ok %v", s, d.Err(), tt.ok)
			}
			if tt.ok && s != string(pattern(tt.avail)) {
				t.Fatalf("String = %q", s)
			}
			if !tt.ok && (s != "" || !IsMalformed(d.Err())) {
				t.Fatalf("failed String = %q, %v", s, d.Err())
			}
		})
	}
}

func TestDecoderBytes32(t *testing.T) {
	e := NewEncoder(nil)
	e.Bytes32([]byte("abc"))
	e.U8(0xee)
	p := e.Bytes()
	d := NewDecoder(p)
	b := d.Bytes32()
	if string(b) != "abc" || d.Err() != nil {
		t.Fatalf("Bytes32 = %q, %v", b, d.Err())
	}
	// The slice aliases the payload but cannot grow into the next field.
	if &b[0] != &p[4] || cap(b) != len(b) {
		t.Fatalf("Bytes32 slice: aliased %v, cap %d", &b[0] == &p[4], cap(b))
	}
	_ = append(b, 'x')
	if d.U8() != 0xee {
		t.Fatal("appending to a decoded slice overwrote the next field")
	}

	for _, length := range []uint32{math.MaxInt32 + 1, math.MaxUint32, 4} {
		e := NewEncoder(nil)
		e.U32(length)
		d := NewDecoder(append(e.Bytes(), 1, 2, 3))
		if b := d.Bytes32(); b != nil || !IsMalformed(d.Err()) {
			t.Fatalf("Bytes32 of length %d over 3 bytes = %v, %v", length, b, d.Err())
		}
	}
}
