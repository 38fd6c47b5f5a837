package fusefs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// MountEntry is a mount as /proc/self/mountinfo describes it.
type MountEntry struct {
	Device string // "major:minor", unique among live mounts
	Dir    string // mount point
	FsType string // "fuse.ferry" for a Ferry mount
	Source string // "ferry:/path/vol" or "ferry:ferry://host:port"
}

// FindMount returns the mount whose mount point is dir (absolute,
// cleaned), reading the mount table rather than the mount itself, so
// that it answers for a mount that hangs too.
func FindMount(dir string) (MountEntry, error) {
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return MountEntry{}, err
	}
	var found MountEntry
	ok := false
	sc := bufio.NewScanner(bytes.NewReader(info))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source super
		f := strings.Fields(sc.Text())
		if len(f) < 5 || unescapeMountinfo(f[4]) != dir {
			continue
		}
		e := MountEntry{Device: f[2], Dir: dir}
		for i := 5; i+2 < len(f); i++ {
			if f[i] == "-" {
				e.FsType, e.Source = f[i+1], unescapeMountinfo(f[i+2])
				break
			}
		}
		found, ok = e, true // the last one is the one on top
	}
	if !ok {
		return MountEntry{}, fmt.Errorf("%s is not a mount point", dir)
	}
	return found, nil
}

// IsFerry reports whether the mount is a Ferry mount.
func (e MountEntry) IsFerry() bool { return e.FsType == "fuse.ferry" }
