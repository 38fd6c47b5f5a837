package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func sampleResult() Result {
	return Result{
		Label: "ferry", Dir: "/mnt/x",
		NativeLabel: "native", NativeDir: "/tmp/n",
		Files: 10000, SizeBytes: 1 << 30, Runs: 3,
		ReadsCold: true,
		Metrics: []Metric{
			{Name: MetricCreate, Title: "create", Unit: "ops/s", Value: 17234.4, Native: 45120, Ratio: 17234.4 / 45120,
				Samples: []float64{17000, 17234.4, 18000}, NativeSamples: []float64{45120, 45000, 46000}},
			{Name: MetricRead, Title: "read cold", Unit: "MiB/s", Value: 98.66, Native: 1523.2, Ratio: 98.66 / 1523.2,
				Samples: []float64{98.66}, NativeSamples: []float64{1523.2}},
		},
		PID: 42, PeakRSSBytes: 123 << 20,
	}
}

func TestFormat(t *testing.T) {
	var b bytes.Buffer
	if err := Format(sampleResult(), &b); err != nil {
		t.Fatal(err)
	}
	want := `ferry   /mnt/x
native  /tmp/n
10,000 files, 1 GiB file, median of 3 runs

metric               ferry   native   ratio
create (ops/s)      17,234   45,120   0.38x
read cold (MiB/s)     98.7    1,523   0.06x

peak RSS of pid 42: 123 MiB
`
	if got := b.String(); got != want {
		t.Errorf("Format:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatWithoutNative(t *testing.T) {
	r := Result{
		Label: "ferry", Dir: "/mnt/x", SizeBytes: 4 << 20, Runs: 1,
		CacheNote: "cannot drop the page cache: write /proc/sys/vm/drop_caches: permission denied",
		Metrics: []Metric{
			{Name: MetricWrite, Title: "write+fsync", Unit: "MiB/s", Value: 5.123},
			{Name: MetricRead, Title: "read warm", Unit: "MiB/s", Value: 2048},
		},
	}
	var b bytes.Buffer
	if err := Format(r, &b); err != nil {
		t.Fatal(err)
	}
	want := `ferry  /mnt/x
4 MiB file, 1 run

metric                ferry
write+fsync (MiB/s)    5.12
read warm (MiB/s)     2,048

read figures are warm: cannot drop the page cache: write /proc/sys/vm/drop_caches: permission denied
`
	if got := b.String(); got != want {
		t.Errorf("Format:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatJSONRoundTrip(t *testing.T) {
	in := sampleResult()
	var b bytes.Buffer
	if err := FormatJSON(in, &b); err != nil {
		t.Fatal(err)
	}
	var out Result
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatalf("unmarshal %s: %v", b.String(), err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v", out, in)
	}
	for _, key := range []string{`"name": "create"`, `"unit": "ops/s"`, `"ratio":`, `"reads_cold": true`, `"peak_rss_bytes": 128974848`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON lacks %s:\n%s", key, b.String())
		}
	}
}

func TestFormatFigure(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0.00"},
		{3.14159, "3.14"},
		{9.994, "9.99"},
		{9.996, "10.0"},
		{98.66, "98.7"},
		{99.96, "100"},
		{1234.5, "1,235"},
		{45120, "45,120"},
		{1234567, "1,234,567"},
		{math.NaN(), "-"},
		{math.Inf(1), "-"},
	} {
		if got := formatFigure(tc.in); got != tc.want {
			t.Errorf("formatFigure(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFormatRatioAndDigits(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{{0.381, "0.38x"}, {1, "1.00x"}, {12.345, "12.35x"}, {0, "-"}, {math.Inf(1), "-"}} {
		if got := formatRatio(tc.in); got != tc.want {
			t.Errorf("formatRatio(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {-1234, "-1,234"}, {10000, "10,000"}, {123456789, "123,456,789"}} {
		if got := groupDigits(tc.in); got != tc.want {
			t.Errorf("groupDigits(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
