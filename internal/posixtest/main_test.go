package posixtest

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

var (
	flagSeed = flag.Int64("ferry.seed", 0, "seed of the random model test (0: from the clock)")
	flagOps  = flag.Int("ferry.ops", 2000, "operations of the random model test")
	flagSoak = flag.Bool("ferry.soak", false, "run the random model test for much longer (100,000 operations unless -ferry.ops is set)")
)

func TestMain(m *testing.M) {
	if script := os.Getenv(childEnv); script != "" {
		os.Exit(childMain(script))
	}
	// Modes given to create calls are then the modes the files get.
	syscall.Umask(0)
	code := m.Run()
	if childBinDir != "" {
		os.RemoveAll(childBinDir)
	}
	os.Exit(code)
}

// childBinary returns a copy of the test binary that any user may execute:
// the one go test builds lives in a directory only its owner can enter.
var (
	childBinOnce sync.Once
	childBinDir  string
	childBinPath string
	childBinErr  error
)

func childBinary(t testing.TB) string {
	t.Helper()
	childBinOnce.Do(func() {
		childBinPath, childBinErr = copyBinary()
	})
	if childBinErr != nil {
		t.Fatalf("copy test binary for child processes: %v", childBinErr)
	}
	return childBinPath
}

func copyBinary() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "ferry-posixtest-bin-")
	if err != nil {
		return "", err
	}
	childBinDir = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	src, err := os.Open(self)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst := filepath.Join(dir, "posixtest.test")
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return dst, nil
}

// nativeRoot returns a fresh directory of the native file system that every
// user can enter (t.TempDir makes directories only root can enter).
func nativeRoot(t testing.TB) string {
	t.Helper()
	requireRoot(t)
	dir, err := os.MkdirTemp("", "ferry-posixtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// requireRoot stops a test that is not run as root: it needs to chown,
// make devices and run children as other users. Skipped normally, failed
// under CI=true.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("this test must run as root, and CI=true requires every test to run")
	}
	t.Skip("not root: the POSIX tests chown, mknod and run children as other users")
}

// openAncestors lets every user traverse the directories above dir, so that
// child processes running as other users can reach a mount point made under
// t.TempDir.
func openAncestors(t testing.TB, dir string) {
	t.Helper()
	for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatalf("stat %s: %v", d, err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
				t.Fatalf("chmod %s: %v", d, err)
			}
		}
	}
}

// fsCase is one check, run in its own empty directory.
type fsCase struct {
	name string
	fn   func(t *testing.T, dir string)
}

// runCases runs every case on a native directory and on a Ferry mount, each
// case in its own subdirectory, in parallel.
func runCases(t *testing.T, cases []fsCase) {
	t.Helper()
	t.Run("native", func(t *testing.T) {
		t.Parallel()
		runIn(t, nativeRoot(t), cases)
	})
	t.Run("ferry", func(t *testing.T) {
		t.Parallel()
		runIn(t, ferryRoot(t), cases)
	})
}

func runIn(t *testing.T, root string, cases []fsCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root, c.name)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatalf("mkdir case dir: %v", err)
			}
			c.fn(t, dir)
		})
	}
}
