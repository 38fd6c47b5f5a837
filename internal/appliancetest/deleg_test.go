package appliancetest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testmount"
	"golang.org/x/sys/unix"
)

func inoOf(t *testing.T, p string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func createEmpty(p string) error {
	fd, err := unix.Open(p, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// Creates that A answered under its delegation of a directory it made
// are seen by B's very next syscall, whatever it is: a lookup of a new
// name, a stat of the directory, a listing, a read, a create of a taken
// name, an rmdir, a rename of the directory. B looks first, then A, and
// the views must agree.
func TestDelegatedCreatesSeen(t *testing.T) {
	a, b := pair(t)
	r := rand.New(rand.NewPCG(7, 11))
	delegated := 0
	for round := range 40 {
		dir := fmt.Sprintf("d%d", round)
		if err := os.Mkdir(a.Path(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		n := 1 + r.IntN(40)
		for i := range n {
			p := a.Path(path.Join(dir, fmt.Sprintf("f%d", i)))
			if i%5 == 4 {
				if err := os.WriteFile(p, []byte(fmt.Sprint("round ", round, " file ", i)), 0o640); err != nil {
					t.Fatal(err)
				}
			} else if err := createEmpty(p); err != nil {
				t.Fatal(err)
			}
		}
		if a.Client.Delegated(inoOf(t, a.Path(dir))) {
			delegated++
		}
		last := path.Join(dir, fmt.Sprintf("f%d", n-1))
		var touched []string
		switch k := r.IntN(7); k {
		case 0:
			touched = []string{last}
		case 1:
			touched = []string{dir}
		case 2:
			touched = []string{dir, path.Join(dir, "f0")}
		case 3:
			err := createEmpty(b.Path(last))
			if err != syscall.EEXIST {
				t.Fatalf("round %d: create of a name A made, on B: %v, want EEXIST", round, err)
			}
			touched = []string{last}
		case 4:
			err := unix.Rmdir(b.Path(dir))
			if err != syscall.ENOTEMPTY && err != syscall.EEXIST {
				t.Fatalf("round %d: rmdir of A's directory with %d new files, on B: %v", round, n, err)
			}
			touched = []string{dir}
		case 5:
			moved := dir + "m"
			if err := os.Rename(b.Path(dir), b.Path(moved)); err != nil {
				t.Fatal(err)
			}
			touched = []string{moved, path.Join(moved, "f0"), path.Join(moved, fmt.Sprintf("f%d", n-1))}
		case 6:
			if _, err := os.ReadFile(b.Path(path.Join(dir, "f4"))); err != nil && n > 4 {
				t.Fatalf("round %d: read of A's new file on B: %v", round, err)
			}
			touched = []string{path.Join(dir, "f4")}
		}
		for _, rel := range touched {
			got := look(b.Dir, rel)
			want := look(a.Dir, rel)
			if got.String() != want.String() {
				t.Fatalf("round %d: %q on B is\n  %v\nbut on A, which made it,\n  %v", round, rel, got, want)
			}
		}
	}
	if delegated < 20 {
		t.Fatalf("only %d of 40 rounds created under a delegation", delegated)
	}
}

// The service is killed while A has creates it answered itself and the
// service has not: B's first listing after the restart has every name
// whose create had returned, and in the end every name is there, once,
// on A and on B.
func TestDelegatedCreatesAcrossRestart(t *testing.T) {
	svc := testmount.StartServe(t, testmount.ServeOptions{})
	a := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{Patience: time.Minute})
	b := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{Patience: time.Minute})
	if err := os.Mkdir(a.Path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		created []string
		failed  error
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200_000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("f%06d", i)
			if err := createEmpty(a.Path("d/" + name)); err != nil {
				mu.Lock()
				failed = fmt.Errorf("create %s: %w", name, err)
				mu.Unlock()
				return
			}
			mu.Lock()
			created = append(created, name)
			mu.Unlock()
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(created) }
	eventually(t, "a few hundred creates", func() bool { return count() >= 300 })
	svc.Kill(t)
	// The creates go on while the service is away, up to the bound on
	// unanswered ones: some are waiting for it now.
	eventually(t, "creates waiting for the service", func() bool { return a.Client.Unanswered() > 0 })
	pending := a.Client.Unanswered()
	time.Sleep(200 * time.Millisecond)
	svc.Restart(t)
	// B's first look after the restart sees every create that returned
	// on A, even those A still has to send again: reads wait for them.
	mu.Lock()
	returned := slices.Clone(created)
	mu.Unlock()
	seen := names(t, b.Path("d"))
	if m := firstMissing(returned, seen); m != "" {
		t.Fatalf("B's first listing after the restart lacks %q (%d names, %d creates had returned)", m, len(seen), len(returned))
	}
	before := count()
	eventually(t, "creates after the restart", func() bool { return count() >= before+300 })
	close(stop)
	<-done
	if failed != nil {
		t.Fatal(failed)
	}
	dir, err := os.Open(a.Path("d"))
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.Sync(); err != nil {
		t.Fatalf("fsync of the directory: %v", err)
	}
	dir.Close()
	for _, m := range []*testmount.Remote{b, a} {
		got := names(t, m.Path("d"))
		if !slices.Equal(got, created) {
			t.Fatalf("%s lists %d names, %d were created (first missing: %q)", m.Dir, len(got), len(created), firstMissing(created, got))
		}
	}
	t.Logf("%d creates, %d of them before the restart, %d unanswered at the kill", len(created), before, pending)
}

func firstMissing(want, got []string) string {
	have := make(map[string]bool, len(got))
	for _, g := range got {
		have[g] = true
	}
	for _, w := range want {
		if !have[w] {
			return w
		}
	}
	return ""
}

// eventually polls cond every 10 ms until it holds, failing the test
// after a minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// While A keeps creating files, 20 to a directory it made just before
// (so each is delegated until B looks), B keeps listing the newest ones:
// every listing has every name whose create had returned on A before B
// asked.
func TestDelegatedCreatesConcurrentLooks(t *testing.T) {
	a, b := pair(t)
	const perDir = 20
	var (
		mu       sync.Mutex
		returned = map[int][]string{}
		newest   = -1
		failed   error
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		fail := func(err error) {
			mu.Lock()
			failed = err
			mu.Unlock()
		}
		for i := 0; i < 100_000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			d := i / perDir
			if i%perDir == 0 {
				if err := os.Mkdir(a.Path(fmt.Sprint("c", d)), 0o755); err != nil {
					fail(err)
					return
				}
				mu.Lock()
				newest = d
				mu.Unlock()
			}
			name := fmt.Sprintf("f%06d", i)
			if err := createEmpty(a.Path(fmt.Sprintf("c%d/%s", d, name))); err != nil {
				fail(err)
				return
			}
			mu.Lock()
			returned[d] = append(returned[d], name)
			mu.Unlock()
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	looks, r := 0, rand.New(rand.NewPCG(3, 5))
	for ; looks < 400 && time.Now().Before(deadline); looks++ {
		mu.Lock()
		d := newest - r.IntN(2)
		want := slices.Clone(returned[d])
		mu.Unlock()
		if d < 0 {
			time.Sleep(time.Millisecond)
			continue
		}
		got := names(t, b.Path(fmt.Sprint("c", d)))
		if m := firstMissing(want, got); m != "" {
			close(stop)
			<-done
			t.Fatalf("look %d: B's listing of c%d lacks %q, whose create had returned on A (%d names listed, %d returned)", looks, d, m, len(got), len(want))
		}
	}
	close(stop)
	<-done
	if failed != nil {
		t.Fatal(failed)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d looks at %d directories", looks, newest+1)
}
