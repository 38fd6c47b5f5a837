package appliancetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testmount"
)

// worker makes, fsyncs, renames and removes its own files under dir and
// records what each should hold. Every failure an application would see
// is an error.
type worker struct {
	dir   string
	r     *rand.Rand
	files map[string][32]byte // name → sha256 of what it holds
	gone  map[string]bool
	n     int
}

func (w *worker) step() error {
	w.n++
	switch k := w.r.IntN(10); {
	case k < 7 || len(w.files) == 0:
		name := fmt.Sprintf("f%d", w.n)
		data := make([]byte, w.r.IntN(300<<10))
		for i := range data {
			data[i] = byte(w.r.Uint32())
		}
		f, err := os.OpenFile(filepath.Join(w.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		w.files[name] = sha256.Sum256(data)
	case k < 9:
		old := w.pick()
		name := fmt.Sprintf("r%d", w.n)
		if err := os.Rename(filepath.Join(w.dir, old), filepath.Join(w.dir, name)); err != nil {
			return err
		}
		w.files[name] = w.files[old]
		delete(w.files, old)
		w.gone[old] = true
	default:
		old := w.pick()
		if err := os.Remove(filepath.Join(w.dir, old)); err != nil {
			return err
		}
		delete(w.files, old)
		w.gone[old] = true
	}
	return nil
}

func (w *worker) pick() string {
	for name := range w.files {
		return name
	}
	return ""
}

// verify checks w's files as seen under root (another mount's view of
// the same directory).
func (w *worker) verify(t *testing.T, root string) {
	t.Helper()
	rel, _ := filepath.Rel(filepath.Dir(w.dir), w.dir)
	for name, sum := range w.files {
		b, err := os.ReadFile(filepath.Join(root, rel, name))
		if err != nil {
			t.Errorf("%s/%s: %v", rel, name, err)
			continue
		}
		if sha256.Sum256(b) != sum {
			t.Errorf("%s/%s: contents differ from what was written (%d bytes)", rel, name, len(b))
		}
	}
	for name := range w.gone {
		if _, err := os.Lstat(filepath.Join(root, rel, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s/%s was removed or renamed, but: %v", rel, name, err)
		}
	}
}

// The service is killed with SIGKILL while two mounts are busy, and
// started again: applications see a pause, never an error, every call
// runs once (an O_EXCL create sent again after the restart does not fail
// with EEXIST), everything written is there with the right bytes on both
// mounts, and a file unlinked while open on one mount stays readable
// through the restart.
func TestServiceKilledAndRestarted(t *testing.T) {
	svc := testmount.StartServe(t, testmount.ServeOptions{})
	a := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{Patience: time.Minute})
	b := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{Patience: time.Minute})

	held := []byte("open and unlinked across the restart")
	if err := os.WriteFile(a.Path("held"), held, 0o644); err != nil {
		t.Fatal(err)
	}
	hf, err := os.Open(a.Path("held"))
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	if err := os.Remove(b.Path("held")); err != nil {
		t.Fatal(err)
	}

	var workers []*worker
	for i, m := range []*testmount.Remote{a, a, b, b} {
		dir := filepath.Join(m.Dir, fmt.Sprintf("w%d", i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		workers = append(workers, &worker{dir: dir, r: rand.New(rand.NewPCG(uint64(i), 7)),
			files: map[string][32]byte{}, gone: map[string]bool{}})
	}
	stop := make(chan struct{})
	errs := make(chan error, len(workers))
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := w.step(); err != nil {
					errs <- fmt.Errorf("%s step %d: %w", w.dir, w.n, err)
					return
				}
			}
		}()
	}
	time.Sleep(time.Second)
	svc.Kill(t)
	time.Sleep(300 * time.Millisecond)
	svc.Restart(t)
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for _, w := range workers {
		total += w.n
		for _, m := range []*testmount.Remote{a, b} {
			w.verify(t, m.Dir)
		}
	}
	t.Logf("%d operations across the restart", total)
	got := make([]byte, len(held)+10)
	n, err := hf.ReadAt(got, 0)
	if !bytes.Equal(got[:n], held) {
		t.Errorf("open unlinked file after the restart: read %q, %v", got[:n], err)
	}
}
