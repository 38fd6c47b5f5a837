package bench

import (
	"errors"
	"io/fs"
	"os"
	"testing"
)

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tferry\nVmPeak:\t  2000 kB\nVmHWM:\t    1664 kB\nVmRSS:\t 1000 kB\n"
	got, err := parseVmHWM([]byte(status))
	if err != nil || got != 1664<<10 {
		t.Errorf("parseVmHWM = %d, %v; want %d", got, err, 1664<<10)
	}
	for _, bad := range []string{
		"Name:\tkthreadd\nState:\tS\n",
		"VmHWM:\t12 MB\n",
		"VmHWM:\tlots kB\n",
		"VmHWM:\n",
	} {
		if got, err := parseVmHWM([]byte(bad)); !errors.Is(err, errNoVmHWM) {
			t.Errorf("parseVmHWM(%q) = %d, %v; want errNoVmHWM", bad, got, err)
		}
	}
}

func TestReadPeakRSS(t *testing.T) {
	got, err := readPeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// A Go test binary has touched at least a megabyte.
	if got < 1<<20 {
		t.Errorf("readPeakRSS(self) = %d, want at least 1 MiB", got)
	}
	// PIDs are below 2^22 on Linux, so this one cannot exist.
	if _, err := readPeakRSS(1 << 30); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("readPeakRSS(no such pid) = %v, want ErrNotExist", err)
	}
}
