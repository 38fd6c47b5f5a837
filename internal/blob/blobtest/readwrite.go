package blobtest

import (
	"context"
	"errors"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
)

func testPutGet(t *testing.T, s blob.Store) {
	data := payload(1, 1000)
	put(t, s, "blocks/01/0000000000000001", data)
	put(t, s, "top", []byte("level"))
	wantGet(t, s, "blocks/01/0000000000000001", 0, -1, data)
	wantGet(t, s, "blocks/01/0000000000000001", 0, 1000, data)
	wantGet(t, s, "top", 0, -1, []byte("level"))
}

func testRangedGet(t *testing.T, s blob.Store) {
	const key = "r/digits"
	put(t, s, key, []byte("0123456789"))
	for _, c := range []struct {
		off, length int64
		want        string
	}{
		{0, -1, "0123456789"},
		{2, 3, "234"},          // in the middle
		{9, 1, "9"},            // last byte
		{5, 100, "56789"},      // length past the end
		{3, -1, "3456789"},     // negative length: to the end
		{3, -7, "3456789"},     // any negative length
		{4, 0, ""},             // zero length
		{10, 1, ""},            // offset at the end
		{10, -1, ""},           // at the end, to the end
		{11, 5, ""},            // offset past the end
		{1 << 40, 1 << 40, ""}, // far past the end
		{0, 1 << 62, "0123456789"},
	} {
		got := get(t, s, key, c.off, c.length)
		if string(got) != c.want {
			t.Errorf("Get(%q, %d, %d) = %q, want %q", key, c.off, c.length, got, c.want)
		}
	}
}

func testNegativeOffset(t *testing.T, s blob.Store) {
	put(t, s, "neg", []byte("abc"))
	b, err := s.Get(context.Background(), "neg", -1, 2)
	if !errors.Is(err, blob.ErrInvalidRange) {
		t.Fatalf("Get at offset -1 = %q, %v; want ErrInvalidRange", b, err)
	}
}

func testNotFound(t *testing.T, s blob.Store) {
	wantNotFound(t, s, "missing")
	put(t, s, "dir/a", []byte("a"))
	put(t, s, "file", []byte("f"))
	wantNotFound(t, s, "dir/b")     // sibling of an object
	wantNotFound(t, s, "dir")       // a prefix of an object, not an object
	wantNotFound(t, s, "file/x")    // "below" an object
	wantNotFound(t, s, "nodir/x/y") // under nothing at all
	if _, err := s.Get(context.Background(), "missing", 5, 10); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("ranged Get of a missing key: %v; want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	if err := s.Delete(ctx, "never/was"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	put(t, s, "d/gone", []byte("x"))
	put(t, s, "d/kept", []byte("y"))
	for i := range 2 {
		if err := s.Delete(ctx, "d/gone"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	wantNotFound(t, s, "d/gone")
	wantGet(t, s, "d/kept", 0, -1, []byte("y"))
	if keys := keysOf(listAll(t, s, "d/")); len(keys) != 1 || keys[0] != "d/kept" {
		t.Fatalf("List after Delete = %q, want [d/kept]", keys)
	}
	// A deleted key can be put again.
	put(t, s, "d/gone", []byte("x"))
	wantGet(t, s, "d/gone", 0, -1, []byte("x"))
}

// testDeleteNotObject deletes keys that name no object but are prefixes of
// objects, which must leave those objects alone.
func testDeleteNotObject(t *testing.T, s blob.Store) {
	put(t, s, "nest/inner/obj", []byte("deep"))
	for _, k := range []string{"nest", "nest/inner", "nest/inner/obj/below"} {
		if err := s.Delete(context.Background(), k); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
	}
	wantGet(t, s, "nest/inner/obj", 0, -1, []byte("deep"))
}

// testSameContentsTwice puts one key twice with the same bytes, as a retried
// upload does.
func testSameContentsTwice(t *testing.T, s blob.Store) {
	data := payload(2, 4096)
	put(t, s, "again/k", data)
	put(t, s, "again/k", data)
	wantGet(t, s, "again/k", 0, -1, data)
	if objs := listAll(t, s, "again/"); len(objs) != 1 || objs[0].Size != 4096 {
		t.Fatalf("List after a repeated Put = %+v, want one object of 4096 bytes", objs)
	}
}

func testZeroLength(t *testing.T, s blob.Store) {
	put(t, s, "empty/nil", nil)
	put(t, s, "empty/slice", []byte{})
	for _, k := range []string{"empty/nil", "empty/slice"} {
		for _, r := range [][2]int64{{0, -1}, {0, 10}, {1, 1}} {
			if b := get(t, s, k, r[0], r[1]); len(b) != 0 {
				t.Fatalf("Get(%q, %d, %d) of an empty object = %q", k, r[0], r[1], b)
			}
		}
	}
	objs := listAll(t, s, "empty/")
	if len(objs) != 2 || objs[0].Size != 0 || objs[1].Size != 0 {
		t.Fatalf("List of empty objects = %+v, want two of size 0", objs)
	}
}

func testLarge(t *testing.T, s blob.Store) {
	const size = 8 << 20
	data := payload(3, size)
	put(t, s, "large/8m", data)
	wantGet(t, s, "large/8m", 0, -1, data)
	mid := int64(size/2 - 12345)
	wantGet(t, s, "large/8m", mid, 1<<20, data[mid:mid+1<<20])
	wantGet(t, s, "large/8m", size-100, 1000, data[size-100:])
	if objs := listAll(t, s, "large/"); len(objs) != 1 || objs[0].Size != size {
		t.Fatalf("List = %+v, want one object of %d bytes", objs, size)
	}
}

// testOddKeys round-trips valid keys that are awkward for file-backed
// stores: punctuation, spaces, dot-files, deep nesting, the longest key.
func testOddKeys(t *testing.T, s blob.Store) {
	long := make([]byte, 0, blob.MaxKeyLen)
	for len(long) < blob.MaxKeyLen-1 {
		long = append(long, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[len(long)%62])
		if len(long)%200 == 199 {
			long = append(long, '/')
		}
	}
	long = append(long, 'z')
	keys := []string{
		"odd/ spaced key ",
		"odd/punct~!@#$%^&()[]{}+=,;'`\"\\",
		"odd/.hidden",
		"odd/...",
		"odd/a.b..c",
		"odd/-dash",
		"odd/d/e/e/p/l/y/n/e/s/t/e/d",
		string(long),
	}
	for i, k := range keys {
		if err := blob.CheckKey(k); err != nil {
			t.Fatalf("test key rejected by CheckKey: %v", err)
		}
		put(t, s, k, payload(uint64(100+i), 10+i))
	}
	for i, k := range keys {
		wantGet(t, s, k, 0, -1, payload(uint64(100+i), 10+i))
	}
	if n := len(listAll(t, s, "")); n != len(keys) {
		t.Fatalf("List found %d objects, want %d", n, len(keys))
	}
}
