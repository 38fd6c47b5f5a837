//go:build !linux

package localblob

import (
	"os"
	"syscall"
)

// syncFS flushes every file system: there is no syncfs(2) here. Errors are
// not reported.
func syncFS(*os.File) error {
	syscall.Sync()
	return nil
}

const startWritebackMin = 256 << 10

func startWriteback(f *os.File) {}
