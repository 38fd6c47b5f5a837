package volume

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile holds an exclusive flock on a volume's LOCK file. The kernel
// drops the lock when the process dies, so a crashed process never leaves
// a volume locked.
type lockFile struct {
	f *os.File
}

// acquireLock takes dir's LOCK without waiting and records our pid in it.
func acquireLock(dir string) (*lockFile, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, ioError(dir, "open "+LockFile, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &InUseError{Dir: dir, PID: LockHolder(dir)}
		}
		return nil, ioError(dir, "lock "+LockFile, err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	// A pid we failed to record only makes a later message less precise.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(pid, 0)
	}
	return &lockFile{f: f}, nil
}

// release clears the recorded pid and drops the lock.
func (l *lockFile) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}

// LockHolder returns the pid recorded in dir's LOCK, or 0 if there is none.
// The pid is only meaningful while the LOCK is held.
func LockHolder(dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
