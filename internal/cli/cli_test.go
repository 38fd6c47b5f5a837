package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testbin"
	"github.com/ferryfs/ferry/internal/volume"
)

// ferry runs the built binary and returns its stdout, stderr and exit code.
func ferry(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testbin.Ferry(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("ferry %q: %v", args, err)
	}
	return out.String(), errb.String(), 0
}

// ferryOK runs ferry and fails the test unless it exits 0.
func ferryOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := ferry(t, args...)
	if code != 0 {
		t.Fatalf("ferry %q: exit %d\nstdout: %s\nstderr: %s", args, code, out, errs)
	}
	return out
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stream string // "out" or "err": where want must appear
		want   []string
	}{
		{nil, 2, "err", []string{"usage: ferry COMMAND"}},
		{[]string{"frobnicate"}, 2, "err", []string{`ferry: unknown command "frobnicate"`, "usage: ferry COMMAND"}},
		{[]string{"help"}, 0, "out", []string{"usage: ferry COMMAND", "mount", "fsck", "bench"}},
		{[]string{"mount", "--bogus", "v", "m"}, 2, "err", []string{"flag provided but not defined: -bogus", "usage: ferry mount VOL|ferry://HOST:PORT[,HOST:PORT] MOUNTPOINT"}},
		{[]string{"mount", "v"}, 2, "err", []string{"ferry mount: missing arguments", "usage: ferry mount VOL|ferry://HOST:PORT[,HOST:PORT] MOUNTPOINT"}},
		{[]string{"mount", "v", "m", "--cache-mb", "lots"}, 2, "err", []string{`invalid value "lots" for flag -cache-mb`}},
		{[]string{"mount", "v", "m", "--log-level", "loud"}, 2, "err", []string{`invalid value "loud" for flag -log-level`}},
		{[]string{"mount", "-h"}, 0, "err", []string{"usage: ferry mount VOL|ferry://HOST:PORT[,HOST:PORT] MOUNTPOINT", "-cache-mb"}},
		{[]string{"status", "a", "b"}, 2, "err", []string{"ferry status: too many arguments"}},
		{[]string{"format", "--block-size", "4Q", "v"}, 2, "err", []string{`invalid value "4Q" for flag -block-size`}},
		{[]string{"fsck"}, 2, "err", []string{"usage: ferry fsck VOL"}},
		{[]string{"version", "extra"}, 2, "err", []string{"too many arguments"}},
	} {
		out, errs, code := ferry(t, tc.args...)
		text := errs
		if tc.stream == "out" {
			text = out
		}
		if code != tc.code {
			t.Errorf("ferry %q: exit %d, want %d\nstderr: %s", tc.args, code, tc.code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("ferry %q: std%s lacks %q:\n%s", tc.args, tc.stream, w, text)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	out := ferryOK(t, "version")
	if !strings.HasPrefix(out, "ferry ") || !strings.Contains(out, "go1.") || strings.Count(out, "\n") != 1 {
		t.Errorf("version printed %q", out)
	}
}

func TestMountMissingMountPoint(t *testing.T) {
	dir := t.TempDir()
	vol, mnt := filepath.Join(dir, "vol"), filepath.Join(dir, "nowhere")
	for _, args := range [][]string{{"mount", vol, mnt}, {"mount", "-d", vol, mnt}} {
		_, errs, code := ferry(t, args...)
		if want := "ferry: mount: mount point " + mnt + " does not exist\n"; code != 1 || errs != want {
			t.Errorf("ferry %q: exit %d, stderr %q; want exit 1, %q", args, code, errs, want)
		}
	}
	if _, err := os.Stat(vol); !os.IsNotExist(err) {
		t.Errorf("a mount that failed on its mount point created the volume: %v", err)
	}
}

func TestNotAVolume(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mount", dir, mnt}, "ferry: mount: " + dir + " is not a Ferry volume (no FERRY file) and is not empty; refusing to format it\n"},
		{[]string{"status", dir}, "ferry: status: " + dir + " is not a Ferry volume (no FERRY file)\n"},
		{[]string{"fsck", dir}, "ferry: fsck: " + dir + " is not a Ferry volume (no FERRY file)\n"},
		{[]string{"format", filepath.Join(dir, "thesis.tex")}, "ferry: format: " + filepath.Join(dir, "thesis.tex") + " is not a Ferry volume (not a directory)\n"},
	} {
		_, errs, code := ferry(t, tc.args...)
		if code != 1 || errs != tc.want {
			t.Errorf("ferry %q: exit %d, stderr %q; want exit 1, %q", tc.args, code, errs, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("refusals wrote into the directory: %v", entries)
	}
}

// TestSecondOpenRefused holds a volume open in this process and checks
// what the commands say about it.
func TestSecondOpenRefused(t *testing.T) {
	vol, mnt := filepath.Join(t.TempDir(), "vol"), t.TempDir()
	ferryOK(t, "format", vol)
	v, err := volume.Open(context.Background(), vol, volume.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	inUse := fmt.Sprintf("volume %s is in use by another ferry process (pid %d)\n", vol, os.Getpid())
	for _, cmd := range []string{"mount", "fsck", "gc"} {
		args := []string{cmd, vol}
		if cmd == "mount" {
			args = append(args, mnt)
		}
		_, errs, code := ferry(t, args...)
		if want := "ferry: " + cmd + ": " + inUse; code != 1 || errs != want {
			t.Errorf("ferry %q: exit %d, stderr %q; want exit 1, %q", args, code, errs, want)
		}
	}
	out := ferryOK(t, "status", vol)
	for _, want := range []string{v.Marker.UUID, fmt.Sprintf("in use by pid %d", os.Getpid()), "version 1", "4 MiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("status of a volume in use lacks %q:\n%s", want, out)
		}
	}
}

func TestFormatStatusFsckGC(t *testing.T) {
	vol := filepath.Join(t.TempDir(), "vol")
	out := ferryOK(t, "format", "--block-size", "1M", vol)
	if !strings.HasPrefix(out, "formatted "+vol+": uuid ") || !strings.Contains(out, "block size 1 MiB") {
		t.Errorf("format printed %q", out)
	}
	m, err := volume.ReadMarker(vol)
	if err != nil || m.BlockSize != 1<<20 {
		t.Fatalf("marker %+v, %v", m, err)
	}
	_, errs, code := ferry(t, "format", vol)
	if want := "ferry: format: " + vol + " is already a Ferry volume (uuid " + m.UUID + ")\n"; code != 1 || errs != want {
		t.Errorf("second format: exit %d, stderr %q; want %q", code, errs, want)
	}
	out = ferryOK(t, "status", vol)
	for _, want := range []string{m.UUID, "not in use", "inodes      1", "sessions    0 recorded", "objects     0"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if out := ferryOK(t, "fsck", vol); !strings.Contains(out, "volume is clean") {
		t.Errorf("fsck of a fresh volume:\n%s", out)
	}
	if out := ferryOK(t, "gc", vol); !strings.Contains(out, "deleted 0 unreferenced objects") {
		t.Errorf("gc of a fresh volume:\n%s", out)
	}
}
