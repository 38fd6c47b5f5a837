package blob_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
)

func TestCheckKey(t *testing.T) {
	for _, c := range []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{"blocks/0a/000000000000010a", true},
		{" spaced / key ", true},
		{".hidden/...", true},
		{"~!@#$%^&*()_+`-={}|[]\\:\";'<>?,", true},
		{strings.Repeat("k", blob.MaxKeyLen), true},
		{strings.Repeat("k", blob.MaxKeyLen+1), false},
		{"", false},
		{"/", false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"a/./b", false},
		{"a/../b", false},
		{"a/..", false},
		{"a\x00", false},
		{"\tb", false},
		{"\x7f", false},
		{"\xff", false},
	} {
		err := blob.CheckKey(c.key)
		if c.ok && err != nil {
			t.Errorf("CheckKey(%q) = %v, want nil", c.key, err)
		}
		if !c.ok && !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("CheckKey(%q) = %v, want ErrInvalidKey", c.key, err)
		}
	}
}

func TestClip(t *testing.T) {
	data := []byte("0123456789")
	for _, c := range []struct {
		off, length int64
		want        string
	}{
		{0, -1, "0123456789"},
		{2, 3, "234"},
		{8, 5, "89"},
		{10, 1, ""},
		{50, -1, ""},
		{4, 0, ""},
		{0, 1 << 62, "0123456789"},
	} {
		if got := string(blob.Clip(data, c.off, c.length)); got != c.want {
			t.Errorf("Clip(%d, %d) = %q, want %q", c.off, c.length, got, c.want)
		}
	}
	if err := blob.CheckRange(-1); !errors.Is(err, blob.ErrInvalidRange) {
		t.Errorf("CheckRange(-1) = %v", err)
	}
	if err := blob.CheckRange(0); err != nil {
		t.Errorf("CheckRange(0) = %v", err)
	}
}

func TestOpError(t *testing.T) {
	err := error(&blob.OpError{Op: "put", Key: "a/b", Err: syscall.ENOSPC})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatal("OpError hides its cause")
	}
	if got, want := err.Error(), `blob put "a/b": no space left on device`; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	err = &blob.OpError{Op: "sync", Err: context.Canceled}
	if got, want := err.Error(), "blob sync: context canceled"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}
