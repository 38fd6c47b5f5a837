package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errNoVmHWM means a status file has no usable VmHWM line (kernel threads
// have none).
var errNoVmHWM = errors.New("no VmHWM line")

// parseVmHWM returns the peak resident set size, in bytes, recorded in the
// contents of a /proc/PID/status file.
func parseVmHWM(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%w: %q", errNoVmHWM, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("%w: %q", errNoVmHWM, sc.Text())
		}
		return kb << 10, nil
	}
	return 0, errNoVmHWM
}

// statusPath is the status file of process pid.
func statusPath(pid int) string { return fmt.Sprintf("/proc/%d/status", pid) }
