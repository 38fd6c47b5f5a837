package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// dropCachesPath is the kernel knob that drops clean page-cache pages.
const dropCachesPath = "/proc/sys/vm/drop_caches"

// dataFigures are the throughputs of one data run, in MiB/s.
type dataFigures struct {
	write, read float64
}

// newDataBuffer returns one write's worth of incompressible bytes, the same
// on every run.
func newDataBuffer() []byte {
	buf := make([]byte, IOSize)
	r := rand.NewChaCha8([32]byte{'f', 'e', 'r', 'r', 'y'})
	_, _ = r.Read(buf)
	return buf
}

// runData writes size bytes to a new file in a fresh subdirectory of dir in
// IOSize writes, fsyncs and closes it (all timed), has dropper drop the page
// cache (when dropper is not nil), reads the file back in IOSize reads
// (timed), and removes the subdirectory.
func runData(ctx context.Context, dir string, size int64, buf []byte, dropper *cacheDropper, p *progress, tag string) (fig dataFigures, err error) {
	sub, err := os.MkdirTemp(dir, ".ferry-bench-data-")
	if err != nil {
		return fig, opError("mkdir in", dir, err)
	}
	defer func() {
		if rerr := os.RemoveAll(sub); rerr != nil && err == nil {
			err = opError("clean up", sub, rerr)
		}
	}()
	path := filepath.Join(sub, "data")

	p.start(fmt.Sprintf("%s: write %s", tag, FormatSize(size)), size, true)
	t0 := time.Now()
	if err := writeFile(ctx, path, size, buf, p); err != nil {
		return fig, err
	}
	fig.write = mibPerSec(size, time.Since(t0))
	p.end()

	if dropper != nil {
		p.start(tag+": drop page cache", 0, false)
		if err := dropper.drop(); err != nil && !dropper.reported {
			dropper.reported = true
			p.note(fmt.Sprintf("cannot drop the page cache: %v; read figures are warm", err))
		}
		p.end()
	}

	p.start(fmt.Sprintf("%s: read %s", tag, FormatSize(size)), size, true)
	t0 = time.Now()
	if err := readFile(ctx, path, size, buf, p); err != nil {
		return fig, err
	}
	fig.read = mibPerSec(size, time.Since(t0))
	p.end()
	return fig, nil
}

// writeFile creates path and writes size bytes to it from buf, then fsyncs
// and closes it.
func writeFile(ctx context.Context, path string, size int64, buf []byte, p *progress) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return opError("create", path, err)
	}
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			f.Close()
			return err
		}
		n, err := f.Write(buf[:min(int64(len(buf)), size-off)])
		off += int64(n)
		if err != nil {
			f.Close()
			return opError("write", path, err)
		}
		p.step(off)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return opError("fsync", path, err)
	}
	if err := f.Close(); err != nil {
		return opError("close", path, err)
	}
	return nil
}

// readFile reads path to its end in len(buf) reads and checks that it holds
// size bytes.
func readFile(ctx context.Context, path string, size int64, buf []byte, p *progress) error {
	f, err := os.Open(path)
	if err != nil {
		return opError("open", path, err)
	}
	defer f.Close()
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.Read(buf)
		total += int64(n)
		p.step(total)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return opError("read", path, err)
		}
	}
	if total != size {
		return opError("read", path, fmt.Errorf("%w: read %d bytes, wrote %d", io.ErrUnexpectedEOF, total, size))
	}
	return nil
}

// cacheDropper drops the kernel's clean page cache (after a sync) so that
// reads come from the file system rather than from memory. After the first
// failure it stops trying and returns that failure.
type cacheDropper struct {
	path     string
	failed   error
	reported bool // the failure has been shown to the user
}

func (d *cacheDropper) drop() error {
	if d.failed != nil {
		return d.failed
	}
	unix.Sync()
	f, err := os.OpenFile(d.path, os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString("3")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		d.failed = fmt.Errorf("write %s: %w", d.path, err)
	}
	return d.failed
}
