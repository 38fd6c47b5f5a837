package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrMalformed is the kind of every decoding failure: a payload shorter
// than its fields, a length past the end, a value out of range.
var ErrMalformed = errors.New("wire: malformed message")

// Encoder appends fields to a buffer. It never fails.
type Encoder struct {
	b []byte
}

// NewEncoder returns an encoder appending to buf.
func NewEncoder(buf []byte) *Encoder { return &Encoder{b: buf} }

// Bytes returns the encoded bytes.
func (e *Encoder) Bytes() []byte { return e.b }

// Reset empties the buffer, keeping its capacity.
func (e *Encoder) Reset() { e.b = e.b[:0] }

func (e *Encoder) U8(v uint8)   { e.b = append(e.b, v) }
func (e *Encoder) U16(v uint16) { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *Encoder) U32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *Encoder) U64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *Encoder) I64(v int64)  { e.U64(uint64(v)) }

// Bool encodes b as one byte, 0 or 1.
func (e *Encoder) Bool(b bool) {
	if b {
		e.U8(1)
	} else {
		e.U8(0)
	}
}

// Bytes32 encodes p with a u32 length prefix.
func (e *Encoder) Bytes32(p []byte) {
	e.U32(uint32(len(p)))
	e.b = append(e.b, p...)
}

// String encodes s with a u32 length prefix.
func (e *Encoder) String(s string) {
	e.U32(uint32(len(s)))
	e.b = append(e.b, s...)
}

// Decoder reads fields from a payload. The first failure sticks: later
// reads return zero values, and Err reports it.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a decoder over p. Decoded byte slices alias p.
func NewDecoder(p []byte) *Decoder { return &Decoder{b: p} }

// Err returns the first failure, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining returns how many bytes are left undecoded.
func (d *Decoder) Remaining() int { return len(d.b) }

// Fail records a failure (the first one wins).
func (d *Decoder) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

// Finish fails if bytes are left over, and returns Err.
func (d *Decoder) Finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.Fail("%d trailing bytes", len(d.b))
	}
	return d.err
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.Fail("need %d bytes, have %d", n, len(d.b))
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *Decoder) U8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *Decoder) U16() uint16 {
	if p := d.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *Decoder) U32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *Decoder) U64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *Decoder) I64() int64 { return int64(d.U64()) }

// Bool decodes a byte that must be 0 or 1.
func (d *Decoder) Bool() bool {
	switch v := d.U8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.Fail("bool byte %d", v)
		return false
	}
}

// Bytes32 decodes a u32-length-prefixed byte string, aliasing the payload.
func (d *Decoder) Bytes32() []byte {
	n := d.U32()
	if n > math.MaxInt32 {
		d.Fail("length %d", n)
		return nil
	}
	return d.take(int(n))
}

// String decodes a u32-length-prefixed string of at most max bytes.
func (d *Decoder) String(max int) string {
	n := d.U32()
	if int64(n) > int64(max) {
		d.Fail("string of %d bytes, limit %d", n, max)
		return ""
	}
	return string(d.take(int(n)))
}

// Count decodes a u32 element count and checks it against the bytes left:
// every element takes at least minSize bytes, so a count the payload
// cannot hold fails before the caller allocates for it.
func (d *Decoder) Count(minSize int) int {
	n := d.U32()
	if minSize < 1 {
		minSize = 1
	}
	if int64(n)*int64(minSize) > int64(len(d.b)) {
		d.Fail("count %d does not fit in %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}
