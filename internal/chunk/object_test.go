package chunk

import (
	"bytes"
	"errors"
	"strings"
	"syscall"
	"testing"
)

func TestDecodeObject(t *testing.T) {
	payload := []byte("the quick brown fox")
	good := EncodeObject(payload)
	const key = "blocks/07/0000000000000007"
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"good", good, true},
		{"empty payload", EncodeObject(nil), true},
		{"nothing", nil, false},
		{"short header", good[:ObjectHeaderSize-1], false},
		{"truncated payload", good[:len(good)-1], false},
		{"extended", append(bytes.Clone(good), 0), false},
		{"bad magic", edit(func(b []byte) []byte { b[0] ^= 1; return b }), false},
		{"bad version", edit(func(b []byte) []byte { b[4] = 2; return b }), false},
		{"reserved set", edit(func(b []byte) []byte { b[6] = 1; return b }), false},
		{"bad length", edit(func(b []byte) []byte { b[8]++; return b }), false},
		{"bad crc", edit(func(b []byte) []byte { b[12] ^= 0x80; return b }), false},
		{"flipped payload bit", edit(func(b []byte) []byte { b[len(b)-3] ^= 4; return b }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeObject(key, tt.data)
			if tt.ok {
				if err != nil {
					t.Fatalf("DecodeObject: %v", err)
				}
				if want := tt.data[ObjectHeaderSize:]; !bytes.Equal(got, want) {
					t.Fatalf("payload %q, want %q", got, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeObject accepted %x", tt.data)
			}
			if !errors.Is(err, syscall.EIO) || !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not wrap EIO and ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), key) {
				t.Errorf("error %q does not name the object", err)
			}
		})
	}
}

func FuzzDecodeObject(f *testing.F) {
	f.Add(EncodeObject([]byte("payload")))
	f.Add(EncodeObject(nil))
	f.Add([]byte("FRYO"))
	f.Fuzz(func(t *testing.T, data []byte) {
		payload, err := DecodeObject("blocks/00/0000000000000000", data)
		if err != nil {
			if !errors.Is(err, syscall.EIO) {
				t.Fatalf("error %v does not wrap EIO", err)
			}
			return
		}
		if !bytes.Equal(EncodeObject(payload), data) {
			t.Fatalf("accepted %x, which does not re-encode to itself", data)
		}
	})
}
