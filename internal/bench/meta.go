package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// metaFigures are the rates of one metadata run, in operations per second.
type metaFigures struct {
	create, stat1, stat2, unlink float64
}

// runMeta creates n empty files in a fresh subdirectory of dir, stats them
// all twice, unlinks them all, and removes the subdirectory. Calls go
// through a descriptor of the subdirectory so that every operation resolves
// one name, on the file system under test and on the native one alike.
func runMeta(ctx context.Context, dir string, n int, p *progress, tag string) (fig metaFigures, err error) {
	sub, err := os.MkdirTemp(dir, ".ferry-bench-meta-")
	if err != nil {
		return fig, opError("mkdir in", dir, err)
	}
	defer func() {
		if rerr := os.RemoveAll(sub); rerr != nil && err == nil {
			err = opError("clean up", sub, rerr)
		}
	}()
	var dfd int
	err = retryEINTR(func() (e error) {
		dfd, e = unix.Open(sub, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return e
	})
	if err != nil {
		return fig, opError("open", sub, err)
	}
	defer unix.Close(dfd)

	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("f%07d", i)
	}
	phase := func(what, pass string, op func(name string) error) (float64, error) {
		p.start(fmt.Sprintf("%s: %s %s files%s", tag, what, groupDigits(int64(n)), pass), int64(n), false)
		t0 := time.Now()
		for i, name := range names {
			if i&255 == 0 {
				if err := ctx.Err(); err != nil {
					return 0, err
				}
			}
			if err := retryEINTR(func() error { return op(name) }); err != nil {
				return 0, opError(what, filepath.Join(sub, name), err)
			}
			p.step(int64(i + 1))
		}
		d := time.Since(t0)
		p.end()
		return rate(float64(n), d), nil
	}

	create := func(name string) error {
		fd, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	}
	var st unix.Stat_t
	stat := func(name string) error {
		if err := unix.Fstatat(dfd, name, &st, 0); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != 0 {
			return fmt.Errorf("%w: mode %#o size %d, want an empty regular file", syscall.EIO, st.Mode, st.Size)
		}
		return nil
	}
	unlink := func(name string) error { return unix.Unlinkat(dfd, name, 0) }

	if fig.create, err = phase("create", "", create); err != nil {
		return fig, err
	}
	if fig.stat1, err = phase("stat", " (1st pass)", stat); err != nil {
		return fig, err
	}
	if fig.stat2, err = phase("stat", " (2nd pass)", stat); err != nil {
		return fig, err
	}
	if fig.unlink, err = phase("unlink", "", unlink); err != nil {
		return fig, err
	}
	return fig, nil
}
