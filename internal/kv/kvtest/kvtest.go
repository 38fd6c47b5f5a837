package kvtest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
)

// Run runs the conformance suite against stores returned by open.
func Run(t *testing.T, open func(t *testing.T) kv.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s kv.Store)
	}{
		{"GetSetDelete", testGetSetDelete},
		{"PointGet", testPointGet},
		{"EmptyValue", testEmptyValue},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"ScanBounds", testScanBounds},
		{"BinaryOrder", testBinaryOrder},
		{"PrefixScan", testPrefixScan},
		{"EarlyStop", testEarlyStop},
		{"NestedReads", testNestedReads},
		{"ReadYourWrites", testReadYourWrites},
		{"SetThenDelete", testSetThenDelete},
		{"ErrorDiscards", testErrorDiscards},
		{"PanicReleases", testPanicReleases},
		{"BuffersCopied", testBuffersCopied},
		{"ViewSnapshot", testViewSnapshot},
		{"CounterSerializable", testCounterSerializable},
		{"DisjointCounters", testDisjointCounters},
		{"TransfersConsistent", testTransfersConsistent},
		{"LargeValues", testLargeValues},
		{"LargeTxn", testLargeTxn},
		{"ManyKeys", testManyKeys},
		{"CanceledContext", testCanceledContext},
		{"Closed", testClosed},
		{"CloseDuringView", testCloseDuringView},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

type pair struct {
	key, value string
}

func (p pair) String() string { return fmt.Sprintf("%q=%q", p.key, p.value) }

// set commits the given key/value pairs (k1, v1, k2, v2, ...) in one Update.
func set(t *testing.T, s kv.Store, kvs ...string) {
	t.Helper()
	if len(kvs)%2 != 0 {
		t.Fatalf("set: odd number of arguments")
	}
	err := s.Update(t.Context(), func(tx kv.Txn) error {
		for i := 0; i < len(kvs); i += 2 {
			tx.Set([]byte(kvs[i]), []byte(kvs[i+1]))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(set): %v", err)
	}
}

// get reads key in its own View.
func get(t *testing.T, s kv.Store, key string) ([]byte, error) {
	t.Helper()
	var v []byte
	var gerr error
	err := s.View(t.Context(), func(r kv.Reader) error {
		v, gerr = r.Get([]byte(key))
		return nil
	})
	if err != nil {
		t.Fatalf("View(get %q): %v", key, err)
	}
	return v, gerr
}

// wantValue checks that key holds want, in a fresh View.
func wantValue(t *testing.T, s kv.Store, key, want string) {
	t.Helper()
	v, err := get(t, s, key)
	if err != nil {
		t.Fatalf("Get(%q): %v, want %q", key, err, want)
	}
	if string(v) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, v, want)
	}
}

// wantMissing checks that key is absent, in a fresh View.
func wantMissing(t *testing.T, s kv.Store, key string) {
	t.Helper()
	v, err := get(t, s, key)
	if !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

// readValue checks inside a transaction or view that key holds want.
func readValue(t *testing.T, r kv.Reader, key, want string) {
	t.Helper()
	v, err := r.Get([]byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v, want %q", key, err, want)
	}
	if string(v) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, v, want)
	}
}

// readMissing checks inside a transaction or view that key is absent.
func readMissing(t *testing.T, r kv.Reader, key string) {
	t.Helper()
	v, err := r.Get([]byte(key))
	if !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

// collect scans [start, end) on r and returns copies of what it saw.
func collect(t *testing.T, r kv.Reader, start, end []byte) []pair {
	t.Helper()
	var out []pair
	err := r.Scan(start, end, func(k, v []byte) bool {
		out = append(out, pair{string(k), string(v)})
		return true
	})
	if err != nil {
		t.Fatalf("Scan(%q, %q): %v", start, end, err)
	}
	return out
}

// scan runs collect in its own View.
func scan(t *testing.T, s kv.Store, start, end []byte) []pair {
	t.Helper()
	var out []pair
	err := s.View(t.Context(), func(r kv.Reader) error {
		out = collect(t, r, start, end)
		return nil
	})
	if err != nil {
		t.Fatalf("View(scan): %v", err)
	}
	return out
}

func wantPairs(t *testing.T, what string, got, want []pair) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d pairs %v, want %d pairs %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: pair %d = %v, want %v (got %v)", what, i, got[i], want[i], got)
		}
	}
}

func checkSorted(t *testing.T, what string, ps []pair) {
	t.Helper()
	for i := 1; i < len(ps); i++ {
		if bytes.Compare([]byte(ps[i-1].key), []byte(ps[i].key)) >= 0 {
			t.Fatalf("%s: keys out of order at %d: %q then %q", what, i, ps[i-1].key, ps[i].key)
		}
	}
}
