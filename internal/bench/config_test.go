package bench

import (
	"errors"
	"testing"
)

func TestParseSize(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"1", 1},
		{"4096", 4096},
		{"512k", 512 << 10},
		{"512K", 512 << 10},
		{"4M", 4 << 20},
		{"256M", 256 << 20},
		{"256MiB", 256 << 20},
		{"256mb", 256 << 20},
		{"1G", 1 << 30},
		{"1Gi", 1 << 30},
		{"1GiB", 1 << 30},
		{" 2g ", 2 << 30},
		{"1.5G", 3 << 29},
		{"0.5M", 512 << 10},
		{"2T", 2 << 40},
		{"100B", 100},
		{"8 MiB", 8 << 20},
	}
	for _, tc := range good {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	bad := []string{"", "G", "0", "0G", "-1", "-1G", "1X", "1KK", "1.3", "0.1", "abc", "1e3", "9999999999T", "1..2M", "NaN"}
	for _, in := range bad {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{4 << 20, "4 MiB"},
		{1 << 30, "1 GiB"},
		{3 << 29, "1.5 GiB"},
		{5 << 40, "5 TiB"},
	} {
		if got := FormatSize(tc.in); got != tc.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSizeRoundTrip(t *testing.T) {
	for _, n := range []int64{1, 1023, 1 << 10, 4 << 20, 3 << 29, 1 << 40} {
		s := FormatSize(n)
		got, err := ParseSize(s)
		if err != nil || got != n {
			t.Errorf("ParseSize(FormatSize(%d) = %q) = %d, %v", n, s, got, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Dir: "/x"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(%+v) = %v, want nil", ok, err)
	}
	d := ok.withDefaults()
	if d.Files != DefaultFiles || d.Size != DefaultSize || d.Runs != DefaultRuns ||
		d.Label != "ferry" || d.NativeLabel != "native" || d.Logger == nil {
		t.Errorf("withDefaults() = %+v", d)
	}
	for _, c := range []Config{
		{},
		{Dir: "/x", Files: -1},
		{Dir: "/x", Size: -5},
		{Dir: "/x", Runs: -2},
		{Dir: "/x", Only: "everything"},
		{Dir: "/x", PID: -1},
	} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrConfig", c, err)
		}
	}
	for _, c := range []Config{{Dir: "/x", Only: OnlyMeta}, {Dir: "/x", Only: OnlyData}} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", c, err)
		}
	}
}
