package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
)

// Run runs the whole suite. open must return a new, empty store each time it
// is called; it registers its own cleanup on t.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutGet", testPutGet},
		{"RangedGet", testRangedGet},
		{"NegativeOffset", testNegativeOffset},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"DeleteNotObject", testDeleteNotObject},
		{"SameContentsTwice", testSameContentsTwice},
		{"ZeroLength", testZeroLength},
		{"Large", testLarge},
		{"OddKeys", testOddKeys},
		{"ListOrder", testListOrder},
		{"ListPrefix", testListPrefix},
		{"ListStop", testListStop},
		{"ListReentrant", testListReentrant},
		{"Concurrent", testConcurrent},
		{"InvalidKeys", testInvalidKeys},
		{"PutCopiesBuffer", testPutCopiesBuffer},
		{"GetOwnsBuffer", testGetOwnsBuffer},
		{"Canceled", testCanceled},
		{"Sync", testSync},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, open(t))
		})
	}
}

// payload returns n deterministic pseudo-random bytes derived from seed.
func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, data); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
}

func get(t *testing.T, s blob.Store, key string, off, length int64) []byte {
	t.Helper()
	b, err := s.Get(context.Background(), key, off, length)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", key, off, length, err)
	}
	return b
}

func wantGet(t *testing.T, s blob.Store, key string, off, length int64, want []byte) {
	t.Helper()
	if got := get(t, s, key, off, length); !bytes.Equal(got, want) {
		t.Fatalf("Get(%q, %d, %d) = %s, want %s", key, off, length, show(got), show(want))
	}
}

func wantNotFound(t *testing.T, s blob.Store, key string) {
	t.Helper()
	b, err := s.Get(context.Background(), key, 0, -1)
	if !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get(%q) = %d bytes, %v; want ErrNotFound", key, len(b), err)
	}
}

// listAll returns every object under prefix, failing the test on error.
func listAll(t *testing.T, s blob.Store, prefix string) []blob.Object {
	t.Helper()
	var objs []blob.Object
	err := s.List(context.Background(), prefix, func(o blob.Object) error {
		objs = append(objs, o)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return objs
}

func keysOf(objs []blob.Object) []string {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

// show prints short byte slices in full and long ones by length and ends.
func show(b []byte) string {
	if len(b) <= 32 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q…%q (%d bytes)", b[:8], b[len(b)-8:], len(b))
}
