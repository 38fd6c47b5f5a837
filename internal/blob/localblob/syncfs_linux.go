package localblob

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS flushes the whole file system holding f (syncfs(2)). The kernel
// reports writeback errors seen since f was opened.
func syncFS(f *os.File) error {
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: f.Name(), Err: err}
	}
	return nil
}
