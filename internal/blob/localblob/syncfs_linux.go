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

// startWritebackMin is the object size from which Put starts writeback at
// once: small objects are cheaper to leave to the kernel's own batching.
const startWritebackMin = 256 << 10

// startWriteback asks the kernel to begin writing f's dirty pages to disk
// without waiting for them (sync_file_range SYNC_FILE_RANGE_WRITE). It is a
// hint: errors are left for the fsync of Sync to report.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
