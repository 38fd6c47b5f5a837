package posixtest

import (
	"os"
	"testing"

	"github.com/ferryfs/ferry/internal/testmount"
)

// ferryMount formats and mounts a fresh Ferry volume for t, reachable by
// every user (permission tests run children as other users).
func ferryMount(t *testing.T) *testmount.Mount {
	t.Helper()
	requireRoot(t)
	testmount.RequireFUSE(t)
	m := testmount.New(t, testmount.Options{})
	openAncestors(t, m.Dir)
	if err := os.Chmod(m.Dir, 0o755); err != nil {
		t.Fatalf("chmod mount root: %v", err)
	}
	return m
}

func ferryRoot(t *testing.T) string { return ferryMount(t).Dir }

// ferryRemount unmounts and mounts m's volume again, returning the root.
func ferryRemount(t *testing.T, m *testmount.Mount) string {
	t.Helper()
	m.Remount(t)
	return m.Dir
}
