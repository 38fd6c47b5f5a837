package cli

import (
	"errors"
	"flag"
	"io"
	"testing"

	"github.com/ferryfs/ferry/internal/bench"
)

func TestParseBenchArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bench.Config
		json bool
	}{
		{
			args: []string{"/mnt/x"},
			want: bench.Config{Dir: "/mnt/x", Files: 10000, Size: 1 << 30, Runs: 3},
		},
		{
			args: []string{"/mnt/x", "--vs", "/tmp/n", "--files", "50", "--size", "4M", "--runs", "1", "--json"},
			want: bench.Config{Dir: "/mnt/x", NativeDir: "/tmp/n", Files: 50, Size: 4 << 20, Runs: 1},
			json: true,
		},
		{
			args: []string{"-only=data", "--size=256M", "--pid", "77", "--warm", "/mnt/x"},
			want: bench.Config{Dir: "/mnt/x", Files: 10000, Size: 256 << 20, Runs: 3, Only: "data", PID: 77, KeepCaches: true},
		},
		{
			args: []string{"--runs", "5", "--", "-odd-name"},
			want: bench.Config{Dir: "-odd-name", Files: 10000, Size: 1 << 30, Runs: 5},
		},
	} {
		got, asJSON, err := parseBenchArgs(tc.args, io.Discard)
		if err != nil {
			t.Errorf("parseBenchArgs(%q): %v", tc.args, err)
			continue
		}
		if got != tc.want || asJSON != tc.json {
			t.Errorf("parseBenchArgs(%q) = %+v, json %v; want %+v, json %v", tc.args, got, asJSON, tc.want, tc.json)
		}
	}
}

func TestParseBenchArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"/a", "/b"},
		{"/a", "--size", "lots"},
		{"/a", "--size", "0"},
		{"/a", "--files", "0"},
		{"/a", "--runs", "0"},
		{"/a", "--only", "both"},
		{"/a", "--nope"},
		{"/a", "--vs"},
	} {
		if _, _, err := parseBenchArgs(args, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("parseBenchArgs(%q) = %v, want errUsage", args, err)
		}
	}
	if _, _, err := parseBenchArgs([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseBenchArgs(-h) = %v, want flag.ErrHelp", err)
	}
	if _, _, err := parseBenchArgs([]string{"/a", "--runs", "0"}, io.Discard); !errors.Is(err, bench.ErrConfig) {
		t.Errorf("parseBenchArgs(--runs 0) = %v, want bench.ErrConfig", err)
	}
}
