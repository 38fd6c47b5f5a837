package fusefs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleMountinfo = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
35 22 0:31 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
40 22 0:45 / /mnt/with\040space rw,relatime shared:20 - fuse.ferry ferry:/v rw,user_id=0,group_id=0,default_permissions,allow_other
41 22 0:46 / /mnt/back\134slash rw - tmpfs tmpfs rw
`

func TestIsMountPoint(t *testing.T) {
	info := []byte(sampleMountinfo)
	for path, want := range map[string]bool{
		"/":                  true,
		"/proc":              true,
		"/mnt/with space":    true,
		`/mnt/back\slash`:    true,
		"/mnt":               false,
		`/mnt/with\040space`: false,
		"/proc/sys":          false,
	} {
		if got := isMountPoint(info, path); got != want {
			t.Errorf("isMountPoint(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:         "plain",
		`a\040b`:        "a b",
		`tab\011nl\012`: "tab\tnl\n",
		`trail\04`:      `trail\04`,
		`bad\089`:       `bad\089`,
	} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDevNumbers(t *testing.T) {
	// makedev as glibc lays out a 64-bit dev_t.
	makedev := func(major, minor uint64) uint64 {
		return (major&0xfff)<<8 | (major&^0xfff)<<32 | minor&0xff | (minor&^0xff)<<12
	}
	if ma, mi := devNumbers(0x0801); ma != 8 || mi != 1 {
		t.Errorf("devNumbers(0x801) = %d:%d, want 8:1", ma, mi)
	}
	for _, mm := range [][2]uint64{{0, 45}, {8, 1}, {259, 3}, {0xfff, 0xff}, {0x1000, 0x100}, {0xffffffff, 0xffffffff}} {
		if ma, mi := devNumbers(makedev(mm[0], mm[1])); ma != mm[0] || mi != mm[1] {
			t.Errorf("devNumbers(makedev(%d, %d)) = %d:%d", mm[0], mm[1], ma, mi)
		}
	}
}

func TestCheckMountPoint(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckMountPoint(dir); err != nil {
		t.Fatalf("empty directory: %v", err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "nope"): "mount point " + filepath.Join(dir, "nope") + " does not exist",
		file:                       "mount point " + file + " is not a directory",
		"/proc":                    "mount point /proc is already mounted",
	} {
		err := CheckMountPoint(path)
		if err == nil || err.Error() != want {
			t.Errorf("CheckMountPoint(%s) = %v, want %q", path, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error spans lines: %q", err)
		}
	}
}
