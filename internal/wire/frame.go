package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version this build speaks; MinVersion the oldest
// it still accepts.
const (
	Version    = 2 // 2: directory delegations (OpDelegate, OpCreateAs, ReturnDelegation)
	MinVersion = 1
)

// Kind says who sent a frame and why.
type Kind uint8

const (
	KindCall  Kind = 1 // client → service: a request
	KindReply Kind = 2 // service → client: the answer to a Call
	KindPush  Kind = 3 // service → client, unsolicited: a recall
)

func (k Kind) valid() bool { return k >= KindCall && k <= KindPush }

// HeaderSize is the size of a frame header, length field included.
const HeaderSize = 16

// Frame size limits. A frame carries at most one object (a block of up to
// 64 MiB) plus its message fields.
const (
	MaxFrame        = 64<<20 + 64<<10
	DefaultMaxFrame = MaxFrame
	readPiece       = 1 << 20 // payloads are read in pieces of this size
)

// ErrFrameTooLarge is returned for a frame longer than the reader's limit.
var ErrFrameTooLarge = errors.New("wire: frame too large")

// Header is a frame's header.
type Header struct {
	Kind  Kind
	Flags uint8
	Op    Op
	ID    uint64
}

// AppendFrame appends a frame with header h and payload p to dst.
func AppendFrame(dst []byte, h Header, p []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(HeaderSize-4+len(p)))
	dst = append(dst, byte(h.Kind), h.Flags)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(h.Op))
	dst = binary.LittleEndian.AppendUint64(dst, h.ID)
	return append(dst, p...)
}

// BeginFrame appends a header with a zero length to dst and returns the
// buffer and the offset of the frame; the caller appends the payload and
// calls EndFrame. This avoids copying large payloads.
func BeginFrame(dst []byte, h Header) ([]byte, int) {
	start := len(dst)
	return AppendFrame(dst, h, nil), start
}

// EndFrame fills in the length of the frame begun at start.
func EndFrame(buf []byte, start int) {
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(buf)-start-4))
}

// ReadFrame reads one frame from r. The payload is a new slice the caller
// owns. Frames longer than max (0: DefaultMaxFrame) fail with
// ErrFrameTooLarge before their payload is read; a header that is not a
// frame fails with ErrMalformed. Either leaves r mid-stream: the caller
// must drop the connection.
func ReadFrame(r io.Reader, max int) (Header, []byte, error) {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return Header{}, nil, err
	}
	h, n, err := ParseHeader(hb[:], max)
	if err != nil {
		return h, nil, err
	}
	p, err := readPayload(r, n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return h, nil, err
	}
	return h, p, nil
}

// ParseHeader decodes a frame header and returns it with the payload
// length it announces.
func ParseHeader(hb []byte, max int) (Header, int, error) {
	if len(hb) < HeaderSize {
		return Header{}, 0, fmt.Errorf("%w: header of %d bytes", ErrMalformed, len(hb))
	}
	length := binary.LittleEndian.Uint32(hb)
	h := Header{
		Kind:  Kind(hb[4]),
		Flags: hb[5],
		Op:    Op(binary.LittleEndian.Uint16(hb[6:])),
		ID:    binary.LittleEndian.Uint64(hb[8:]),
	}
	if length < HeaderSize-4 {
		return h, 0, fmt.Errorf("%w: frame length %d", ErrMalformed, length)
	}
	if int64(length)+4 > int64(max) {
		return h, 0, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, int64(length)+4, max)
	}
	if !h.Kind.valid() {
		return h, 0, fmt.Errorf("%w: frame kind %d", ErrMalformed, h.Kind)
	}
	if h.Flags != 0 {
		return h, 0, fmt.Errorf("%w: frame flags %#x", ErrMalformed, h.Flags)
	}
	return h, int(length) - (HeaderSize - 4), nil
}

// readPayload reads n bytes, growing the buffer as bytes arrive.
func readPayload(r io.Reader, n int) ([]byte, error) {
	if n <= readPiece {
		p := make([]byte, n)
		_, err := io.ReadFull(r, p)
		return p, err
	}
	p := make([]byte, 0, readPiece)
	for len(p) < n {
		k := min(n-len(p), readPiece)
		if cap(p)-len(p) < k {
			p = append(p[:cap(p)], make([]byte, min(cap(p), n-cap(p)))...)[:len(p)]
		}
		if _, err := io.ReadFull(r, p[len(p):len(p)+k]); err != nil {
			return nil, err
		}
		p = p[:len(p)+k]
	}
	return p, nil
}
