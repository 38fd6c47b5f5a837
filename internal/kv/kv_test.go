package kv

import (
	"bytes"
	"testing"
)

func TestPrefixEnd(t *testing.T) {
	cases := []struct {
		prefix, want []byte
	}{
		{nil, nil},
		{[]byte{}, nil},
		{[]byte("a"), []byte("b")},
		{[]byte("abc"), []byte("abd")},
		{[]byte{0x00}, []byte{0x01}},
		{[]byte{0x00, 0x00}, []byte{0x00, 0x01}},
		{[]byte{0x01, 0xff}, []byte{0x02}},
		{[]byte{0x01, 0xff, 0xff}, []byte{0x02}},
		{[]byte{0xfe}, []byte{0xff}},
		{[]byte{0xff}, nil},
		{[]byte{0xff, 0xff}, nil},
		{[]byte{0xff, 0x00}, []byte{0xff, 0x01}},
		{[]byte{0xff, 0x00, 0xff}, []byte{0xff, 0x01}},
	}
	for _, c := range cases {
		got := PrefixEnd(c.prefix)
		if !bytes.Equal(got, c.want) || (got == nil) != (c.want == nil) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", c.prefix, got, c.want)
		}
		if got == nil {
			continue
		}
		// The result is a strict upper bound of every extension of prefix
		// and no greater than the next key that lacks it.
		for _, ext := range [][]byte{{}, {0x00}, {0xff, 0xff, 0xff}} {
			k := append(bytes.Clone(c.prefix), ext...)
			if bytes.Compare(k, got) >= 0 {
				t.Errorf("PrefixEnd(%x) = %x is not above %x", c.prefix, got, k)
			}
		}
	}
}

func TestPrefixEndDoesNotAlias(t *testing.T) {
	p := []byte("ab")
	end := PrefixEnd(p)
	end[0] = 'z'
	if string(p) != "ab" {
		t.Fatalf("PrefixEnd modified its argument: %q", p)
	}
}
