package posixtest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	gofuseposix "github.com/hanwen/go-fuse/v2/posixtest"
)

// goFuseSkips lists the cases of go-fuse's suite that are not run, and why.
// Every other case must pass: a case that skips itself fails here.
var goFuseSkips = map[string]string{
	"FcntlFlockLocksFile": "expects F_SETLK to conflict between two descriptors of one process; " +
		"POSIX record locks belong to the process, so Linux grants it (fails on ext4 too; go-fuse's own TestAll skips it)",
}

// goFuseNativeSkips are cases not run on the native reference directory,
// for a reason of that file system.
var goFuseNativeSkips = map[string]string{
	"XAttrLarge": "ext4 holds a file's attributes in one block: an 8 KiB value does not fit",
	"OpenSymlinkRace": "tells a successful attack by the device number of what it opened, " +
		"and /etc/passwd may lie on the file system of the native directory",
}

// goFuseAlone are cases that must not run beside other tests of this
// process: FdLeak counts the process's open descriptors.
var goFuseAlone = []string{"FdLeak"}

// TestGoFuseSuite runs go-fuse's posixtest suite. It is not parallel with
// the other tests of the package, so that FdLeak sees only its own
// descriptors.
func TestGoFuseSuite(t *testing.T) {
	t.Run("native", func(t *testing.T) { runGoFuseSuite(t, nativeRoot(t), goFuseNativeSkips) })
	t.Run("ferry", func(t *testing.T) { runGoFuseSuite(t, ferryRoot(t), nil) })
}

func runGoFuseSuite(t *testing.T, root string, skips map[string]string) {
	names := make([]string, 0, len(gofuseposix.All))
	for name := range gofuseposix.All {
		names = append(names, name)
	}
	slices.Sort(names)
	// The cases that need the process to themselves run first, one by one;
	// the rest then run in parallel.
	slices.SortStableFunc(names, func(a, b string) int {
		ia, ib := slices.Contains(goFuseAlone, a), slices.Contains(goFuseAlone, b)
		switch {
		case ia && !ib:
			return -1
		case ib && !ia:
			return 1
		}
		return 0
	})
	t.Run("group", func(t *testing.T) {
		for _, name := range names {
			fn := gofuseposix.All[name]
			t.Run(name, func(t *testing.T) {
				if why, ok := goFuseSkips[name]; ok {
					t.Skipf("not run: %s", why)
				}
				if why, ok := skips[name]; ok {
					t.Skipf("not run here: %s", why)
				}
				if !slices.Contains(goFuseAlone, name) {
					t.Parallel()
				}
				dir := filepath.Join(root, name)
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatalf("mkdir: %v", err)
				}
				defer func() {
					if t.Skipped() {
						t.Errorf("%s skipped itself: it must pass, or be listed with a reason in goFuseSkips", name)
					}
				}()
				fn(t, dir)
			})
		}
	})
}
