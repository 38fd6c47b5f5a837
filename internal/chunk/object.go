package chunk

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"syscall"
)

// Object format, version 1: a fixed header followed by the payload. Pieces
// address the payload (Piece.ObjOff 0 is the first payload byte).
//
//	offset  size  field
//	0       4     magic "FRYO"
//	4       1     format version (1)
//	5       3     reserved, zero
//	8       4     payload length, little endian
//	12      4     CRC-32C (Castagnoli) of the payload, little endian
const (
	// ObjectHeaderSize is the number of bytes an object holds before its
	// payload.
	ObjectHeaderSize = 16

	objectMagic   = "FRYO"
	objectVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeObject returns payload framed as an object.
func EncodeObject(payload []byte) []byte {
	buf := make([]byte, ObjectHeaderSize+len(payload))
	copy(buf[ObjectHeaderSize:], payload)
	putHeader(buf)
	return buf
}

// putHeader fills buf[:ObjectHeaderSize] with the header of the payload in
// buf[ObjectHeaderSize:].
func putHeader(buf []byte) {
	payload := buf[ObjectHeaderSize:]
	copy(buf[0:4], objectMagic)
	buf[4] = objectVersion
	buf[5], buf[6], buf[7] = 0, 0, 0
	binary.LittleEndian.PutUint32(buf[8:12], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[12:16], crc32.Checksum(payload, castagnoli))
}

// DecodeObject verifies data, the whole object stored under key, and returns
// its payload, which aliases data. A truncated, extended or damaged object
// is an *Error naming key that wraps ErrCorrupt and syscall.EIO.
func DecodeObject(key string, data []byte) ([]byte, error) {
	bad := func(format string, args ...any) error {
		return &Error{Op: "decode", Key: key,
			Err: fmt.Errorf("%w: %s: %w", ErrCorrupt, fmt.Sprintf(format, args...), syscall.EIO)}
	}
	if len(data) < ObjectHeaderSize {
		return nil, bad("%d bytes, shorter than the header", len(data))
	}
	if string(data[0:4]) != objectMagic {
		return nil, bad("bad magic %q", data[0:4])
	}
	if data[4] != objectVersion {
		return nil, bad("unknown format version %d", data[4])
	}
	if data[5]|data[6]|data[7] != 0 {
		return nil, bad("reserved header bytes set")
	}
	payload := data[ObjectHeaderSize:]
	if n := binary.LittleEndian.Uint32(data[8:12]); uint64(n) != uint64(len(payload)) {
		return nil, bad("header says %d payload bytes, object holds %d", n, len(payload))
	}
	want := binary.LittleEndian.Uint32(data[12:16])
	if got := crc32.Checksum(payload, castagnoli); got != want {
		return nil, bad("checksum %08x, header says %08x", got, want)
	}
	return payload, nil
}
