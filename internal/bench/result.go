package bench

// Result is what Run measured. Every value is a median over Runs runs.
type Result struct {
	Label       string `json:"label"`
	Dir         string `json:"dir"`
	NativeLabel string `json:"native_label,omitempty"`
	NativeDir   string `json:"native_dir,omitempty"`

	Files     int   `json:"files,omitempty"`      // metadata workload, 0 if not run
	SizeBytes int64 `json:"size_bytes,omitempty"` // data workload, 0 if not run
	Runs      int   `json:"runs"`

	// ReadsCold is true when the page cache was dropped before every read.
	// CacheNote says why it was not, when the data workload ran.
	ReadsCold bool   `json:"reads_cold"`
	CacheNote string `json:"cache_note,omitempty"`

	Metrics []Metric `json:"metrics"`

	// PeakRSSBytes is VmHWM of process PID at the end of the run; RSSNote
	// says why it could not be read.
	PID          int    `json:"pid,omitempty"`
	PeakRSSBytes int64  `json:"peak_rss_bytes,omitempty"`
	RSSNote      string `json:"rss_note,omitempty"`
}

// Metric is one figure, for the directory under test and for native.
type Metric struct {
	Name  string `json:"name"`  // stable identifier: "create", "read", ...
	Title string `json:"title"` // what the table shows: "stat 2nd"
	Unit  string `json:"unit"`  // "ops/s" or "MiB/s"; higher is better

	Value   float64   `json:"value"`
	Samples []float64 `json:"samples"`

	// Native figures and Ratio (Value/Native) are zero without a native
	// directory.
	Native        float64   `json:"native,omitempty"`
	NativeSamples []float64 `json:"native_samples,omitempty"`
	Ratio         float64   `json:"ratio,omitempty"`
}

// HasNative reports whether r compares against a native directory.
func (r Result) HasNative() bool { return r.NativeDir != "" }

// Metric returns the metric called name.
func (r Result) Metric(name string) (Metric, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Metric names, in table order.
const (
	MetricCreate = "create"
	MetricStat1  = "stat_first"
	MetricStat2  = "stat_second"
	MetricUnlink = "unlink"
	MetricWrite  = "write_fsync"
	MetricRead   = "read"
)

// metric indexes samples while a run is under way.
type metric int

const (
	mCreate metric = iota
	mStat1
	mStat2
	mUnlink
	mWrite
	mRead
	numMetrics
)

var metricInfo = [numMetrics]struct{ name, title, unit string }{
	mCreate: {MetricCreate, "create", "ops/s"},
	mStat1:  {MetricStat1, "stat 1st", "ops/s"},
	mStat2:  {MetricStat2, "stat 2nd", "ops/s"},
	mUnlink: {MetricUnlink, "unlink", "ops/s"},
	mWrite:  {MetricWrite, "write+fsync", "MiB/s"},
	mRead:   {MetricRead, "read", "MiB/s"},
}
