package bench

import (
	"slices"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{3, 1}, 2},
		{[]float64{5, 1, 3}, 3},
		{[]float64{9, 1, 100, 2}, 5.5},
		{[]float64{2, 2, 2, 1000, 0}, 2},
	} {
		in := slices.Clone(tc.in)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("median(%v) reordered its input to %v", tc.in, in)
		}
	}
}

func TestRates(t *testing.T) {
	if got := rate(500, 250*time.Millisecond); got != 2000 {
		t.Errorf("rate(500, 250ms) = %v, want 2000", got)
	}
	if got := mibPerSec(3<<20, 2*time.Second); got != 1.5 {
		t.Errorf("mibPerSec(3 MiB, 2s) = %v, want 1.5", got)
	}
	if got := rate(1, 0); got <= 0 {
		t.Errorf("rate(1, 0) = %v, want a positive finite rate", got)
	}
}
