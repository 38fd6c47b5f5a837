package rpc

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A client with a token sends it before its Hello, inside TLS when the
// connection has it:
//
//	"FTOK"  u16 length (little-endian)  token
//
// Read as a frame header, "FTOK" is a frame longer than any Hello may
// be, so a listener tells a token from a Hello by the first four bytes.
// The service answers nothing to the token itself: a bad one gets the
// Hello refused with EACCES, a good one gets the Hello served.
var tokenMagic = [4]byte{'F', 'T', 'O', 'K'}

// maxToken bounds a token on the wire.
const maxToken = 1024

// appendToken appends the token preamble.
func appendToken(dst, tok []byte) ([]byte, error) {
	if len(tok) == 0 || len(tok) > maxToken {
		return nil, fmt.Errorf("a token of %d bytes; want 1 to %d", len(tok), maxToken)
	}
	dst = append(dst, tokenMagic[:]...)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(tok)))
	return append(dst, tok...), nil
}

// readToken reads the rest of a token preamble whose magic was read.
func readToken(r io.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	l := binary.LittleEndian.Uint16(n[:])
	if l == 0 || l > maxToken {
		return nil, errors.New("malformed token")
	}
	tok := make([]byte, l)
	if _, err := io.ReadFull(r, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// tokenMatches compares in time independent of where, and whether, the
// tokens differ: it compares their digests, whose length is fixed.
func tokenMatches(got []byte, want *[sha256.Size]byte) bool {
	g := sha256.Sum256(got)
	return subtle.ConstantTimeCompare(g[:], want[:]) == 1
}
