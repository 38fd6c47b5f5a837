package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
)

// Defaults applied by Config.withDefaults to zero fields.
const (
	DefaultFiles = 10_000
	DefaultSize  = 1 << 30
	DefaultRuns  = 3

	// IOSize is the size of every read and write of the data workload.
	IOSize = 1 << 20
)

// Workload selectors for Config.Only.
const (
	OnlyAll  = ""
	OnlyMeta = "meta"
	OnlyData = "data"
)

// ErrConfig is the kind of every error Config.Validate returns.
var ErrConfig = errors.New("invalid bench config")

// Config says what to measure and how often.
type Config struct {
	// Dir is the directory under test (required).
	Dir string
	// NativeDir, when set, is measured in the same run as the baseline.
	NativeDir string

	// Label and NativeLabel name the two columns; "ferry" and "native"
	// when empty.
	Label       string
	NativeLabel string

	// Files is the number of files of the metadata workload.
	Files int
	// Size is the number of bytes of the data workload.
	Size int64
	// Runs is the number of runs; every figure is their median.
	Runs int
	// Only restricts the benchmark to OnlyMeta or OnlyData.
	Only string

	// KeepCaches skips dropping the page cache before reads, so read
	// figures are warm.
	KeepCaches bool

	// PID, when positive, is a process whose peak RSS (VmHWM) is read at
	// the end of the run.
	PID int

	// Logger receives debug records; nil discards them.
	Logger *slog.Logger
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Files == 0 {
		c.Files = DefaultFiles
	}
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Runs == 0 {
		c.Runs = DefaultRuns
	}
	if c.Label == "" {
		c.Label = "ferry"
	}
	if c.NativeLabel == "" {
		c.NativeLabel = "native"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first problem with c after defaults are applied.
// Its errors wrap ErrConfig.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Dir == "":
		return fmt.Errorf("%w: no directory to measure", ErrConfig)
	case c.Files < 1:
		return fmt.Errorf("%w: files must be at least 1, not %d", ErrConfig, c.Files)
	case c.Size < 1:
		return fmt.Errorf("%w: size must be at least 1 byte, not %d", ErrConfig, c.Size)
	case c.Runs < 1:
		return fmt.Errorf("%w: runs must be at least 1, not %d", ErrConfig, c.Runs)
	case c.Only != OnlyAll && c.Only != OnlyMeta && c.Only != OnlyData:
		return fmt.Errorf("%w: only must be %q or %q, not %q", ErrConfig, OnlyMeta, OnlyData, c.Only)
	case c.PID < 0:
		return fmt.Errorf("%w: pid must be positive, not %d", ErrConfig, c.PID)
	}
	return nil
}

func (c Config) meta() bool { return c.Only != OnlyData }
func (c Config) data() bool { return c.Only != OnlyMeta }

// ParseSize parses a byte count such as "4096", "256M", "1G", "1.5GiB" or
// "512k". Suffixes K, M, G, T are powers of 1024, case-insensitive, and may
// be followed by "i", "B" or "iB". The result must be a positive whole number
// of bytes.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	shift, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (want K, M, G or T)", s, t[i:])
	}
	if num == "" {
		return 0, fmt.Errorf("size %q: no number", s)
	}
	if n, err := strconv.ParseInt(num, 10, 64); err == nil {
		if n < 1 {
			return 0, fmt.Errorf("size %q: must be positive", s)
		}
		if n > math.MaxInt64>>shift {
			return 0, fmt.Errorf("size %q: too large", s)
		}
		return n << shift, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: not a number of bytes", s)
	}
	v := f * float64(int64(1)<<shift)
	switch {
	case v < 1:
		return 0, fmt.Errorf("size %q: must be positive", s)
	case v >= math.MaxInt64:
		return 0, fmt.Errorf("size %q: too large", s)
	case v != math.Trunc(v):
		return 0, fmt.Errorf("size %q: not a whole number of bytes", s)
	}
	return int64(v), nil
}

// sizeUnits maps the lower-cased unit of ParseSize to its power of two.
var sizeUnits = map[string]uint{
	"": 0, "b": 0,
	"k": 10, "ki": 10, "kb": 10, "kib": 10,
	"m": 20, "mi": 20, "mb": 20, "mib": 20,
	"g": 30, "gi": 30, "gb": 30, "gib": 30,
	"t": 40, "ti": 40, "tb": 40, "tib": 40,
}

// FormatSize renders n bytes with the largest binary unit that keeps it
// readable: "1 GiB", "256 MiB", "1.5 GiB", "4095 B".
func FormatSize(n int64) string {
	units := []struct {
		shift uint
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}}
	for _, u := range units {
		if n >= 1<<u.shift {
			if n%(1<<u.shift) == 0 {
				return fmt.Sprintf("%d %s", n>>u.shift, u.name)
			}
			return fmt.Sprintf("%.1f %s", float64(n)/float64(int64(1)<<u.shift), u.name)
		}
	}
	return fmt.Sprintf("%d B", n)
}
