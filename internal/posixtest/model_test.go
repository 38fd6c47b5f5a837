package posixtest

import (
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestModel applies one seeded random sequence of operations to two trees
// side by side and compares every result. "native" runs two native
// directories against each other (which checks the harness); "ferry" runs
// a Ferry mount against a native directory.
func TestModel(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	ops := *flagOps
	if *flagSoak && !flagSet("ferry.ops") {
		ops = 100000
	}
	t.Logf("model: seed %d, %d operations (rerun with -ferry.seed=%d -ferry.ops=%d)", seed, ops, seed, ops)
	t.Run("native", func(t *testing.T) {
		t.Parallel()
		runModel(t, seed, ops, nativeRoot(t), nativeRoot(t))
	})
	t.Run("ferry", func(t *testing.T) {
		t.Parallel()
		runModel(t, seed, ops, nativeRoot(t), ferryRoot(t))
	})
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// modelSlots is how many descriptors each side keeps open across steps.
const modelSlots = 3

// modelSide is one of the two trees.
type modelSide struct {
	name string
	root string
	fds  [modelSlots]int // -1: closed
}

func (s *modelSide) path(rel string) string {
	if rel == "" {
		return s.root
	}
	return filepath.Join(s.root, rel)
}

func (s *modelSide) closeAll() {
	for i, fd := range s.fds {
		if fd >= 0 {
			unix.Close(fd)
			s.fds[i] = -1
		}
	}
}

func runModel(t *testing.T, seed int64, steps int, refRoot, testRoot string) {
	ref := &modelSide{name: "reference", root: filepath.Join(refRoot, "model")}
	sut := &modelSide{name: "tested", root: filepath.Join(testRoot, "model")}
	for _, s := range []*modelSide{ref, sut} {
		mkdir(t, s.root, 0o755)
		for i := range s.fds {
			s.fds[i] = -1
		}
		t.Cleanup(s.closeAll)
	}
	g := &modelGen{rng: rand.New(rand.NewPCG(uint64(seed), 0x5eed)), side: ref}
	var history []string
	tried, succeeded := map[string]int{}, map[string]int{}
	fail := func(step int, format string, args ...any) {
		t.Helper()
		tail := history[max(0, len(history)-25):]
		t.Fatalf("model diverged at step %d (seed %d): %s\nlast operations (reference result):\n  %s",
			step, seed, fmt.Sprintf(format, args...), strings.Join(tail, "\n  "))
	}
	for step := range steps {
		op := g.next()
		rr := op.apply(ref)
		rt := op.apply(sut)
		history = append(history, fmt.Sprintf("%5d %v -> %s", step, op, rr))
		tried[op.kind]++
		if strings.HasPrefix(rr, "success") {
			succeeded[op.kind]++
		}
		if rr != rt {
			fail(step, "%v: reference %q, tested %q", op, rr, rt)
		}
		for _, rel := range op.touched() {
			if a, b := observe(ref, rel), observe(sut, rel); a != b {
				fail(step, "after %v, %q: reference %s, tested %s", op, rel, a, b)
			}
		}
		for i := range modelSlots {
			if a, b := observeSlot(ref, i), observeSlot(sut, i); a != b {
				fail(step, "after %v, slot %d: reference %s, tested %s", op, i, a, b)
			}
		}
	}
	ref.closeAll()
	sut.closeAll()
	a, b := snapshot(t, ref), snapshot(t, sut)
	for _, rel := range slices.Sorted(mapKeys(a, b)) {
		if a[rel] != b[rel] {
			fail(steps, "final trees differ at %q: reference %s, tested %s", rel, a[rel], b[rel])
		}
	}
	var counts []string
	for _, k := range modelKinds {
		counts = append(counts, fmt.Sprintf("%s %d/%d", k.kind, succeeded[k.kind], tried[k.kind]))
	}
	t.Logf("model: %d operations, final tree of %d entries identical; succeeded/tried: %s", steps, len(a), strings.Join(counts, ", "))
}

func mapKeys(ms ...map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if !seen[k] {
					seen[k] = true
					if !yield(k) {
						return
					}
				}
			}
		}
	}
}

// observe describes what should be the same on both sides about rel.
func observe(s *modelSide, rel string) string {
	p := s.path(rel)
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return errnoName(errnoOf(err))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "mode=%#o nlink=%d owner=%d:%d", st.Mode, st.Nlink, st.Uid, st.Gid)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		names, err := listNames(p)
		fmt.Fprintf(&b, " entries=%q%s", names, errSuffix(err))
	case unix.S_IFLNK:
		buf := make([]byte, 256)
		n, err := unix.Readlink(p, buf)
		fmt.Fprintf(&b, " size=%d target=%q%s", st.Size, buf[:max(n, 0)], errSuffix(err))
	default:
		fmt.Fprintf(&b, " size=%d", st.Size)
	}
	if names, err := xattrNames(p); err != nil || len(names) > 0 {
		fmt.Fprintf(&b, " xattrs=%q%s", names, errSuffix(err))
	}
	return b.String()
}

func observeSlot(s *modelSide, i int) string {
	if s.fds[i] < 0 {
		return "closed"
	}
	var st unix.Stat_t
	if err := unix.Fstat(s.fds[i], &st); err != nil {
		return errnoName(errnoOf(err))
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Sprintf("mode=%#o nlink=%d", st.Mode, st.Nlink)
	}
	return fmt.Sprintf("mode=%#o nlink=%d size=%d", st.Mode, st.Nlink, st.Size)
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + errnoName(errnoOf(err)) + ")"
}

func listNames(dir string) ([]string, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var names []string
	buf := make([]byte, 8192)
	for range 10000 {
		n, err := unix.ReadDirent(fd, buf)
		if err != nil {
			return names, err
		}
		if n == 0 {
			break
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
	slices.Sort(names)
	return names, nil
}

func xattrNames(p string) ([]string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range strings.Split(string(buf[:n]), "\x00") {
		if s != "" {
			names = append(names, s)
		}
	}
	slices.Sort(names)
	return names, nil
}

// snapshot describes every entry of a side's tree, contents and
// attribute values included.
func snapshot(t *testing.T, s *modelSide) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.root, p)
		desc := observe(s, rel)
		if d.Type().IsRegular() {
			desc += " content=" + contentDigest(p)
		}
		if names, _ := xattrNames(p); len(names) > 0 {
			for _, n := range names {
				buf := make([]byte, 4096)
				k, err := unix.Lgetxattr(p, n, buf)
				desc += fmt.Sprintf(" %s=%q%s", n, buf[:max(k, 0)], errSuffix(err))
			}
		}
		out[rel] = desc
		return nil
	})
	must(t, "walk "+s.name, err)
	return out
}
