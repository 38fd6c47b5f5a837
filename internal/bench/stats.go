package bench

import (
	"slices"
	"time"
)

// median returns the median of xs (the mean of the two middle values when
// len(xs) is even), or 0 for an empty slice. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// rate returns units per second over d; a zero duration (a clock too coarse
// for the work) counts as one nanosecond so the rate stays finite.
func rate(units float64, d time.Duration) float64 {
	if d <= 0 {
		d = time.Nanosecond
	}
	return units / d.Seconds()
}

// mibPerSec returns the throughput of n bytes over d in MiB/s.
func mibPerSec(n int64, d time.Duration) float64 {
	return rate(float64(n)/(1<<20), d)
}
