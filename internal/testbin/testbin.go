package testbin

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once    sync.Once
	binPath string
	binErr  error
)

// Ferry returns the path of a ferry binary built from the current source.
// The first call in a test process builds it (go's build cache makes
// later processes cheap); a failed build fails the test.
func Ferry(t testing.TB) string {
	t.Helper()
	once.Do(func() { binPath, binErr = build() })
	if binErr != nil {
		t.Fatalf("build ferry: %v", binErr)
	}
	return binPath
}

func build() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building ferry for the tests: %w", err)
	}
	// One directory per source tree, shared by test processes: each
	// builds to a private name and renames it into place, so a process
	// that runs the binary never sees a half-written file.
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("ferry-testbin-%x", sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := "ferry"
	args := []string{"build"}
	if raceEnabled {
		name += "-race"
		args = append(args, "-race")
	}
	final := filepath.Join(dir, name)
	tmp := fmt.Sprintf("%s.tmp-%d", final, os.Getpid())
	args = append(args, "-o", tmp, "./cmd/ferry")
	cmd := exec.Command(goBin, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("go %v in %s: %v\n%s", args, root, err, out)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return final, nil
}

// moduleRoot is the nearest directory at or above the working directory
// that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
