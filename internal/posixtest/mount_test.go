package posixtest

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ferryfs/ferry/internal/kv/etcdkv/etcdtest"
	"github.com/ferryfs/ferry/internal/kv/pgkv/pgtest"
	"github.com/ferryfs/ferry/internal/testmount"
)

// ferryMount formats and mounts a fresh Ferry volume for t, reachable by
// every user (permission tests run children as other users).
func ferryMount(t *testing.T) *testmount.Mount {
	t.Helper()
	requireRoot(t)
	testmount.RequireFUSE(t)
	var opts testmount.Options
	if onPostgres(t) {
		opts.Meta = pgtest.FreshURL(t)
	}
	if onEtcd(t) {
		opts.Meta = etcdCluster.URL(fmt.Sprintf("posix%d", etcdPrefixes.Add(1)))
	}
	m := testmount.New(t, opts)
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

// TestPostgres runs a representative part of the suite (files, directories,
// names, links, renames, attributes, xattrs, persistence across a remount)
// on volumes whose metadata lives in PostgreSQL (scripts/postgres.sh starts
// one): the same checks through another metadata store. The permission,
// lock, model and stress tests exercise the layers above the store and run
// on the default volumes only, which keeps the suite's time in bounds.
func TestPostgres(t *testing.T) {
	pgtest.ServerURL(t)
	runOnEngine(t)
}

// runOnEngine runs the part of the suite that TestPostgres and TestEtcd
// run on volumes in an engine.
func runOnEngine(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Files", TestFiles}, {"Dirs", TestDirs}, {"Names", TestNames}, {"Links", TestLinks},
		{"Rename", TestRename}, {"Attrs", TestAttrs}, {"Xattr", TestXattr}, {"Persistence", TestPersistence},
	} {
		t.Run(tc.name, tc.fn)
	}
}

// etcdCluster is TestEtcd's three-member cluster; each mount of it has a
// prefix of its own.
var (
	etcdCluster  *etcdtest.Cluster
	etcdPrefixes atomic.Int64
)

// TestEtcd runs the same part of the suite as TestPostgres on volumes
// whose metadata lives in a real three-member etcd cluster on loopback.
func TestEtcd(t *testing.T) {
	etcdCluster = etcdtest.Start(t, 3)
	t.Cleanup(etcdCluster.Stop)
	runOnEngine(t)
}

// onEtcd reports whether t runs under TestEtcd.
func onEtcd(t *testing.T) bool { return strings.HasPrefix(t.Name(), "TestEtcd/") }

// onPostgres reports whether t runs under TestPostgres, whose mounts keep
// their metadata in PostgreSQL.
func onPostgres(t *testing.T) bool { return strings.HasPrefix(t.Name(), "TestPostgres/") }
