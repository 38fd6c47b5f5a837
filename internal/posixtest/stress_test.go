package posixtest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestConcurrent runs several workers at once on one mount, each on its
// own files in one shared directory (create, write, read back, overwrite,
// truncate, rename, unlink) while another lists the directory. Every read
// is checked against what the worker wrote. It exercises the adapter, the
// metadata service and the data path under real concurrency, and under
// -race their locking.
func TestConcurrent(t *testing.T) {
	runCases(t, []fsCase{{"Workers", testConcurrentWorkers}})
}

func testConcurrentWorkers(t *testing.T, dir string) {
	const workers = 4
	deadline := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	stop := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- concurrentWorker(dir, w, deadline)
		}()
	}
	var lister sync.WaitGroup
	lister.Add(1)
	go func() {
		defer lister.Done()
		for i := 0; i < 100000; i++ {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			if _, err := os.ReadDir(dir); err != nil {
				errs <- fmt.Errorf("readdir: %w", err)
				return
			}
		}
		errs <- nil
	}()
	wg.Wait()
	close(stop)
	lister.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func concurrentWorker(dir string, w int, deadline time.Time) error {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	want := map[string][]byte{}
	for i := 0; i < 2000 && time.Now().Before(deadline); i++ {
		name := fmt.Sprintf("w%d-%d", w, rng.IntN(8))
		p := filepath.Join(dir, name)
		switch op := rng.IntN(6); op {
		case 0, 1: // write whole file
			data := make([]byte, rng.IntN(3<<20))
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return fmt.Errorf("worker %d: write %s: %w", w, name, err)
			}
			want[name] = data
		case 2: // overwrite a range in place
			old, ok := want[name]
			if !ok || len(old) == 0 {
				continue
			}
			off := rng.IntN(len(old))
			patch := bytes.Repeat([]byte{byte(i)}, 1+rng.IntN(64<<10))
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return fmt.Errorf("worker %d: open %s: %w", w, name, err)
			}
			_, err = f.WriteAt(patch, int64(off))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("worker %d: patch %s: %w", w, name, err)
			}
			if end := off + len(patch); end > len(old) {
				old = append(old, make([]byte, end-len(old))...)
			}
			copy(old[off:], patch)
			want[name] = old
		case 3: // truncate
			old, ok := want[name]
			if !ok {
				continue
			}
			n := rng.IntN(len(old) + 1)
			if err := os.Truncate(p, int64(n)); err != nil {
				return fmt.Errorf("worker %d: truncate %s: %w", w, name, err)
			}
			want[name] = old[:n]
		case 4: // rename to another of this worker's names
			old, ok := want[name]
			if !ok {
				continue
			}
			to := fmt.Sprintf("w%d-%d", w, rng.IntN(8))
			if err := os.Rename(p, filepath.Join(dir, to)); err != nil {
				return fmt.Errorf("worker %d: rename %s: %w", w, name, err)
			}
			delete(want, name)
			want[to] = old
		case 5: // unlink
			if _, ok := want[name]; !ok {
				continue
			}
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("worker %d: unlink %s: %w", w, name, err)
			}
			delete(want, name)
		}
		// Check one file of this worker.
		for n, data := range want {
			got, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				return fmt.Errorf("worker %d: read %s after op %d: %w", w, n, i, err)
			}
			if !bytes.Equal(got, data) {
				return fmt.Errorf("worker %d: %s has %d bytes, differing from the %d written", w, n, len(got), len(data))
			}
			break
		}
	}
	for n := range 8 {
		name := fmt.Sprintf("w%d-%d", w, n)
		_, err := os.Stat(filepath.Join(dir, name))
		_, tracked := want[name]
		if tracked && err != nil || !tracked && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("worker %d: %s: tracked %v, stat %v", w, name, tracked, err)
		}
	}
	return nil
}
