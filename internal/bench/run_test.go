package bench

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// assertEmpty fails unless dir holds nothing: every run cleans up.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s left behind %s", dir, e.Name())
	}
}

func TestRunNativeVsNative(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	var prog bytes.Buffer
	cfg := Config{Dir: a, NativeDir: b, Files: 50, Size: 4 << 20, Runs: 1, PID: os.Getpid()}
	res, err := Run(context.Background(), cfg, &prog)
	if err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, a)
	assertEmpty(t, b)

	names := []string{MetricCreate, MetricStat1, MetricStat2, MetricUnlink, MetricWrite, MetricRead}
	if len(res.Metrics) != len(names) {
		t.Errorf("got %d metrics, want %d: %+v", len(res.Metrics), len(names), res.Metrics)
	}
	for i, name := range names {
		m, ok := res.Metric(name)
		if !ok {
			t.Errorf("no metric %q", name)
			continue
		}
		if res.Metrics[i].Name != name {
			t.Errorf("metric %d is %q, want %q", i, res.Metrics[i].Name, name)
		}
		if m.Value <= 0 || m.Native <= 0 || m.Ratio <= 0 {
			t.Errorf("%s: value %v native %v ratio %v, want all positive", name, m.Value, m.Native, m.Ratio)
		}
		if len(m.Samples) != 1 || len(m.NativeSamples) != 1 {
			t.Errorf("%s: samples %v / %v, want one each", name, m.Samples, m.NativeSamples)
		}
		if m.Unit == "" || m.Title == "" {
			t.Errorf("%s: unit %q title %q", name, m.Unit, m.Title)
		}
	}
	if res.Files != 50 || res.SizeBytes != 4<<20 || res.Runs != 1 || res.Dir != a || res.NativeDir != b {
		t.Errorf("result header = %+v", res)
	}
	if !res.ReadsCold && res.CacheNote == "" {
		t.Errorf("reads are warm without a note saying why")
	}
	if res.PeakRSSBytes <= 0 || res.RSSNote != "" {
		t.Errorf("peak RSS = %d (%q), want positive", res.PeakRSSBytes, res.RSSNote)
	}
	// A bytes.Buffer is no terminal: one line per phase, 7 phases × 2 dirs.
	lines := strings.Split(strings.TrimSpace(prog.String()), "\n")
	phases := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "bench: run 1/1 ") {
			phases++
		}
	}
	if phases != 14 {
		t.Errorf("progress shows %d phases, want 14:\n%s", phases, prog.String())
	}

	var out bytes.Buffer
	if err := Format(res, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"create (ops/s)", "stat 2nd (ops/s)", "write+fsync (MiB/s)", "ratio"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunOnly(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		only string
		want []string
	}{
		{OnlyMeta, []string{MetricCreate, MetricStat1, MetricStat2, MetricUnlink}},
		{OnlyData, []string{MetricWrite, MetricRead}},
	} {
		res, err := Run(context.Background(), Config{Dir: dir, Only: tc.only, Files: 10, Size: 1<<20 + 5, Runs: 2, KeepCaches: true}, nil)
		if err != nil {
			t.Fatalf("only %s: %v", tc.only, err)
		}
		var got []string
		for _, m := range res.Metrics {
			got = append(got, m.Name)
			if len(m.Samples) != 2 || m.Value <= 0 || m.Native != 0 || m.Ratio != 0 {
				t.Errorf("only %s: %+v", tc.only, m)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("only %s: metrics %v, want %v", tc.only, got, tc.want)
		}
		if res.ReadsCold {
			t.Errorf("only %s: reads cold although caches were kept", tc.only)
		}
		assertEmpty(t, dir)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")

	_, err := Run(context.Background(), Config{Dir: missing, Files: 1, Size: 1, Runs: 1}, nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing dir: %v", err)
	}
	_, err = Run(context.Background(), Config{Dir: dir, NativeDir: file, Files: 1, Size: 1, Runs: 1}, nil)
	if !errors.Is(err, syscall.ENOTDIR) || !strings.Contains(err.Error(), file) {
		t.Errorf("native is a file: %v", err)
	}
	_, err = Run(context.Background(), Config{Dir: dir, Runs: -1}, nil)
	if !errors.Is(err, ErrConfig) {
		t.Errorf("bad config: %v", err)
	}
	_, err = Run(context.Background(), Config{Dir: dir, PID: 1 << 30, Files: 1, Size: 1}, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing pid: %v", err)
	}
}

func TestRunCanceled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Config{Dir: dir, Files: 10, Size: 1 << 20, Runs: 1, KeepCaches: true}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run on a canceled context = %v, want context.Canceled", err)
	}
	assertEmpty(t, dir)
}

func TestRunOrder(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	var prog bytes.Buffer
	cfg := Config{Dir: a, NativeDir: b, Files: 5, Size: 1 << 20, Runs: 2, KeepCaches: true}
	if _, err := Run(context.Background(), cfg, &prog); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(prog.String(), "\n") {
		if strings.Contains(l, ": create ") || strings.Contains(l, ": write ") {
			got = append(got, strings.TrimPrefix(l, "bench: "))
		}
	}
	want := []string{
		"run 1/2 ferry: create 5 files",
		"run 1/2 native: create 5 files",
		"run 2/2 native: create 5 files",
		"run 2/2 ferry: create 5 files",
		"run 1/2 ferry: write 1 MiB",
		"run 1/2 native: write 1 MiB",
		"run 2/2 native: write 1 MiB",
		"run 2/2 ferry: write 1 MiB",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("phase order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
