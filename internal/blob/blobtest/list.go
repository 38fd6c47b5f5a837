package blobtest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
)

// listKeys are chosen so that ascending key order differs from a naive
// depth-first walk of directories: '-' (0x2d) sorts before '/' (0x2f),
// which sorts before '0' (0x30).
var listKeys = []string{
	"list/a-c",
	"list/a/b",
	"list/a/c/d",
	"list/a0",
	"list/b",
	"lis",
	"lisu/x",
	"list-other",
}

func putListKeys(t *testing.T, s blob.Store) map[string]int64 {
	sizes := map[string]int64{}
	for i, k := range listKeys {
		n := 3*i + 1
		put(t, s, k, payload(uint64(i), n))
		sizes[k] = int64(n)
	}
	return sizes
}

func testListOrder(t *testing.T, s blob.Store) {
	sizes := putListKeys(t, s)
	objs := listAll(t, s, "")
	want := slices.Clone(listKeys)
	slices.Sort(want)
	if got := keysOf(objs); !slices.Equal(got, want) {
		t.Fatalf("List(\"\") = %q\nwant %q", got, want)
	}
	for _, o := range objs {
		if o.Size != sizes[o.Key] {
			t.Errorf("List: %q has size %d, want %d", o.Key, o.Size, sizes[o.Key])
		}
		if o.ModTime.IsZero() {
			t.Errorf("List: %q has no ModTime", o.Key)
		}
	}
}

func testListPrefix(t *testing.T, s blob.Store) {
	putListKeys(t, s)
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"list/", []string{"list/a-c", "list/a/b", "list/a/c/d", "list/a0", "list/b"}},
		{"list/a", []string{"list/a-c", "list/a/b", "list/a/c/d", "list/a0"}},
		{"list/a/", []string{"list/a/b", "list/a/c/d"}},
		{"list/a/c/d", []string{"list/a/c/d"}},
		{"list", []string{"list-other", "list/a-c", "list/a/b", "list/a/c/d", "list/a0", "list/b"}},
		{"lis", []string{"lis", "list-other", "list/a-c", "list/a/b", "list/a/c/d", "list/a0", "list/b", "lisu/x"}},
		{"lisu", []string{"lisu/x"}},
		{"list/a/b/", nil}, // below an object
		{"list/a/c/d/", nil},
		{"list/zz", nil},
		{"nothing/", nil},
		{"/", nil}, // prefixes no valid key can have
		{"list//", nil},
		{"list/../", nil},
	} {
		if got := keysOf(listAll(t, s, c.prefix)); !slices.Equal(got, c.want) {
			t.Errorf("List(%q) = %q\nwant %q", c.prefix, got, c.want)
		}
	}
}

func testListStop(t *testing.T, s blob.Store) {
	putListKeys(t, s)
	stop := errors.New("stop here")
	var seen []string
	err := s.List(context.Background(), "list/", func(o blob.Object) error {
		seen = append(seen, o.Key)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("List returned %v, want the callback's error", err)
	}
	if want := []string{"list/a-c", "list/a/b"}; !slices.Equal(seen, want) {
		t.Fatalf("List called back with %q, want %q then stop", seen, want)
	}
}

// testListReentrant uses the store from inside a List callback, which must
// not deadlock, and deletes objects as it goes, as a collector does.
func testListReentrant(t *testing.T, s blob.Store) {
	putListKeys(t, s)
	ctx := context.Background()
	n := 0
	err := s.List(ctx, "list/", func(o blob.Object) error {
		n++
		b, err := s.Get(ctx, o.Key, 0, -1)
		if err != nil {
			return err
		}
		if int64(len(b)) != o.Size {
			t.Errorf("%q: List says %d bytes, Get returned %d", o.Key, o.Size, len(b))
		}
		if err := s.Put(ctx, "other/"+o.Key, b); err != nil {
			return err
		}
		return s.Delete(ctx, o.Key)
	})
	if err != nil {
		t.Fatalf("List with a callback that uses the store: %v", err)
	}
	if n != 5 {
		t.Fatalf("List called back %d times, want 5", n)
	}
	if left := listAll(t, s, "list/"); len(left) != 0 {
		t.Fatalf("after deleting during List, %q remain", keysOf(left))
	}
	if moved := listAll(t, s, "other/list/"); len(moved) != 5 {
		t.Fatalf("after copying during List, found %q", keysOf(moved))
	}
}
