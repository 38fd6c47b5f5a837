package metrics

import (
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
)

// Reading scraped metrics back, for the view.

// Value returns the sum of the counters or gauges called name whose
// labels include the label pairs match (name, value, ...); 0 if none.
func (f Families) Value(name string, match ...string) float64 {
	return f.sum(name, match, func(m *dto.Metric) float64 {
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
		return m.GetUntyped().GetValue()
	})
}

// Count returns the sum of the sample counts of the histograms called
// name whose labels include the label pairs match.
func (f Families) Count(name string, match ...string) float64 {
	return f.sum(name, match, func(m *dto.Metric) float64 { return float64(m.GetHistogram().GetSampleCount()) })
}

// sum adds up v of the metrics called name that have the labels match.
func (f Families) sum(name string, match []string, v func(*dto.Metric) float64) float64 {
	var n float64
	if mf := f[name]; mf != nil {
		for _, m := range mf.GetMetric() {
			if hasLabels(m, match) {
				n += v(m)
			}
		}
	}
	return n
}

// has reports whether the scrape has a metric called name.
func (f Families) has(name string) bool { return f[name] != nil }

func hasLabels(m *dto.Metric, match []string) bool {
	for i := 0; i+1 < len(match); i += 2 {
		if label(m, match[i]) != match[i+1] {
			return false
		}
	}
	return true
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// byLabel returns the counters called name summed by the value of label
// key.
func (f Families) byLabel(name, key string) map[string]float64 {
	out := map[string]float64{}
	if mf := f[name]; mf != nil {
		for _, m := range mf.GetMetric() {
			out[label(m, key)] += m.GetCounter().GetValue()
		}
	}
	return out
}

// hist is one latency histogram: cumulative counts at upper bounds.
type hist struct {
	count  uint64
	sum    float64
	bounds []float64 // ascending, +Inf last
	cum    []uint64
}

// hists returns the histograms called name by their op label.
func (f Families) hists(name string) map[string]hist {
	out := map[string]hist{}
	mf := f[name]
	if mf == nil {
		return out
	}
	for _, m := range mf.GetMetric() {
		h := m.GetHistogram()
		if h == nil {
			continue
		}
		x := hist{count: h.GetSampleCount(), sum: h.GetSampleSum()}
		for _, b := range h.GetBucket() {
			x.bounds = append(x.bounds, b.GetUpperBound())
			x.cum = append(x.cum, b.GetCumulativeCount())
		}
		if len(x.bounds) == 0 || !math.IsInf(x.bounds[len(x.bounds)-1], 1) {
			x.bounds = append(x.bounds, math.Inf(1))
			x.cum = append(x.cum, x.count)
		}
		out[label(m, "op")] = x
	}
	return out
}

// minus returns what h counted since old (the same op's histogram of an
// earlier scrape, with the same buckets).
func (h hist) minus(old hist) hist {
	if old.count == 0 || len(old.cum) != len(h.cum) || old.count > h.count {
		return h
	}
	d := hist{count: h.count - old.count, sum: h.sum - old.sum, bounds: h.bounds, cum: make([]uint64, len(h.cum))}
	for i := range h.cum {
		d.cum[i] = h.cum[i] - min(old.cum[i], h.cum[i])
	}
	return d
}

// quantile estimates the q-quantile (0 < q < 1) in seconds, interpolating
// within the bucket it falls in; +Inf if it falls in the last bucket.
func (h hist) quantile(q float64) float64 {
	if h.count == 0 {
		return math.NaN()
	}
	rank := q * float64(h.count)
	i := sort.Search(len(h.cum), func(i int) bool { return float64(h.cum[i]) >= rank })
	if i >= len(h.cum) {
		i = len(h.cum) - 1
	}
	upper := h.bounds[i]
	if math.IsInf(upper, 1) {
		return upper
	}
	lower, below := 0.0, uint64(0)
	if i > 0 {
		lower, below = h.bounds[i-1], h.cum[i-1]
	}
	in := h.cum[i] - below
	if in == 0 {
		return upper
	}
	return lower + (upper-lower)*(rank-float64(below))/float64(in)
}
