package appliancetest

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testmount"
)

var (
	lockSteps = flag.Int("ferry.locksteps", 200, "random lock commands in TestLocksMatchLocalFileSystem")
	lockSeed  = flag.Uint64("ferry.lockseed", 0, "seed of TestLocksMatchLocalFileSystem (0: from the clock)")
)

// lockDoer is a lock owner: this process, or a child (locker).
type lockDoer interface {
	do(format string, args ...any) string
}

// inProcess runs locker commands in this process.
type inProcess struct{ files map[string]*os.File }

func (p *inProcess) do(format string, args ...any) string {
	return lockerDo(strings.Fields(fmt.Sprintf(format, args...)), p.files)
}

func (p *inProcess) close() {
	for _, f := range p.files {
		f.Close()
	}
}

// lockWorld is three lock owners with a descriptor each of one file.
type lockWorld struct {
	owners []lockDoer
	paths  []string
	fds    []string
}

func newLockWorld(t *testing.T, paths ...string) *lockWorld {
	t.Helper()
	self := &inProcess{files: map[string]*os.File{}}
	t.Cleanup(self.close)
	w := &lockWorld{owners: []lockDoer{self, startLocker(t), startLocker(t)}, paths: paths}
	for i, o := range w.owners {
		w.fds = append(w.fds, openIn(t, o, paths[i]))
	}
	return w
}

// openIn opens path in owner o and returns the descriptor.
func openIn(t *testing.T, o lockDoer, path string) string {
	t.Helper()
	r := o.do("open %s", path)
	fd, ok := strings.CutPrefix(r, "ok ")
	if !ok {
		t.Fatalf("open %s: %s", path, r)
	}
	return fd
}

// step runs one command on owner i and returns its answer, the pid of
// a lock F_GETLK reports left out (it names another machine's process
// as 0).
func (w *lockWorld) step(t *testing.T, i int, cmd string) string {
	t.Helper()
	if cmd == "reopen" {
		r := w.owners[i].do("close %s", w.fds[i])
		w.fds[i] = openIn(t, w.owners[i], w.paths[i])
		return r
	}
	r := w.owners[i].do(cmd, w.fds[i])
	if f := strings.Fields(r); len(f) == 5 && f[0] == "lk" {
		switch {
		case f[1] == "u":
			return "lk u" // the range of "nothing in the way" is the request's
		case strings.HasPrefix(cmd, "getlk %s w"):
			// Read and write locks may both be in the way of a write
			// lock: which one is named may differ.
			return "lk in the way"
		}
		// Only write locks are in the way of a read lock; which of
		// several is named (its range) may differ.
		return strings.Join(f[:2], " ")
	}
	return r
}

// randomLockCmd is a random lock command for descriptor %s, over the
// first 24 bytes (length 0: to the end).
func randomLockCmd(r *rand.Rand) string {
	start, n := r.IntN(24), r.IntN(8)
	typ := []string{"r", "w", "u"}[r.IntN(3)]
	switch k := r.IntN(20); {
	case k < 11:
		return fmt.Sprintf("setlk %%s %s %d %d nb", typ, start, n)
	case k < 15:
		return fmt.Sprintf("getlk %%s %s %d %d", []string{"r", "w"}[r.IntN(2)], start, n)
	case k < 19:
		return fmt.Sprintf("flock %%s %s nb", []string{"sh", "ex", "un"}[r.IntN(3)])
	}
	return "reopen"
}

// TestLocksMatchLocalFileSystem runs random lock commands of three
// owners (this process and a child on mount A, a child on mount B) on a
// file of a remote mount and, as a model, of a local directory (one
// kernel, its own locks): every answer must agree. It prints the seed
// (-ferry.lockseed replays one).
func TestLocksMatchLocalFileSystem(t *testing.T) {
	_, a, b := twoMounts(t, testmount.ServeOptions{})
	local := filepath.Join(t.TempDir(), "f")
	for _, p := range []string{a.Path("f"), local} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ferry := newLockWorld(t, a.Path("f"), a.Path("f"), b.Path("f"))
	model := newLockWorld(t, local, local, local)
	seed := *lockSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	r := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)
	var history []string
	answers := map[string]int{}
	for n := range *lockSteps {
		i, cmd := r.IntN(3), randomLockCmd(r)
		want := model.step(t, i, cmd)
		got := ferry.step(t, i, cmd)
		answers[want]++
		history = append(history, fmt.Sprintf("owner %d: %s → %s", i, strings.ReplaceAll(cmd, "%s ", ""), want))
		if got != want {
			t.Fatalf("seed %d, step %d: owner %d %q: ferry answered %q, the local file system %q\nhistory:\n%s",
				seed, n, i, cmd, got, want, strings.Join(history[max(0, len(history)-30):], "\n"))
		}
	}
	t.Logf("answers: %v", answers)
}
