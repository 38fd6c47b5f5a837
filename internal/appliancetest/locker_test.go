package appliancetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lockerEnv makes the test binary, started again with it set, a lock
// owner of its own (POSIX locks belong to a process): it runs the
// commands it reads on stdin, one a line, and answers each on stdout.
//
//	open PATH                  → ok N (a descriptor number)
//	flock N ex|sh|un nb|wait   → ok | errno E
//	setlk N r|w|u START LEN nb|wait
//	getlk N r|w START LEN      → lk TYPE START LEN PID (TYPE u: none)
//	close N
const lockerEnv = "FERRY_TEST_LOCKER"

// lockerMain is the child's side.
func lockerMain() {
	in := bufio.NewScanner(os.Stdin)
	files := map[string]*os.File{}
	for in.Scan() {
		f := strings.Fields(in.Text())
		fmt.Println(lockerDo(f, files))
	}
}

var lockTypes = map[string]int16{"r": unix.F_RDLCK, "w": unix.F_WRLCK, "u": unix.F_UNLCK}

func lockerDo(f []string, files map[string]*os.File) string {
	answer := func(err error) string {
		var en syscall.Errno
		switch {
		case err == nil:
			return "ok"
		case errors.As(err, &en):
			return fmt.Sprintf("errno %d", int(en))
		}
		return "error " + err.Error()
	}
	if len(f) < 2 {
		return "error short command"
	}
	if f[0] == "open" {
		fd, err := os.OpenFile(f[1], os.O_RDWR, 0)
		if err != nil {
			return answer(err)
		}
		n := strconv.Itoa(int(fd.Fd()))
		files[n] = fd
		return "ok " + n
	}
	fd := files[f[1]]
	if fd == nil {
		return "error no descriptor " + f[1]
	}
	switch {
	case f[0] == "close":
		delete(files, f[1])
		return answer(fd.Close())
	case f[0] == "flock" && len(f) == 4:
		how := map[string]int{"ex": unix.LOCK_EX, "sh": unix.LOCK_SH, "un": unix.LOCK_UN}[f[2]]
		if f[3] == "nb" {
			how |= unix.LOCK_NB
		}
		return answer(unix.Flock(int(fd.Fd()), how))
	case (f[0] == "setlk" && len(f) == 6) || (f[0] == "getlk" && len(f) == 5):
		start, _ := strconv.ParseInt(f[3], 10, 64)
		n, _ := strconv.ParseInt(f[4], 10, 64)
		lk := unix.Flock_t{Type: lockTypes[f[2]], Whence: io.SeekStart, Start: start, Len: n}
		if f[0] == "getlk" {
			if err := unix.FcntlFlock(fd.Fd(), unix.F_GETLK, &lk); err != nil {
				return answer(err)
			}
			return lkString(lk)
		}
		cmd := unix.F_SETLK
		if f[5] == "wait" {
			cmd = unix.F_SETLKW
		}
		return answer(unix.FcntlFlock(fd.Fd(), cmd, &lk))
	}
	return "error unknown command"
}

func lkString(lk unix.Flock_t) string {
	t := map[int16]string{unix.F_RDLCK: "r", unix.F_WRLCK: "w", unix.F_UNLCK: "u"}[lk.Type]
	return fmt.Sprintf("lk %s %d %d %d", t, lk.Start, lk.Len, lk.Pid)
}

// locker is a child lock owner.
type locker struct {
	t       *testing.T
	cmd     *exec.Cmd
	in      io.WriteCloser
	replies chan string
	killed  bool
}

func startLocker(t *testing.T) *locker {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), lockerEnv+"=1", "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &locker{t: t, cmd: cmd, in: in, replies: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			l.replies <- sc.Text()
		}
		close(l.replies)
	}()
	t.Cleanup(l.kill)
	return l
}

// send writes a command without waiting for its answer.
func (l *locker) send(format string, args ...any) {
	l.t.Helper()
	if _, err := fmt.Fprintf(l.in, format+"\n", args...); err != nil {
		l.t.Fatalf("locker: %v", err)
	}
}

// reply waits (bounded) for the answer to the oldest command sent.
func (l *locker) reply() string {
	l.t.Helper()
	select {
	case r, ok := <-l.replies:
		if !ok {
			l.t.Fatal("locker: exited")
		}
		return r
	case <-time.After(30 * time.Second):
		l.t.Fatal("locker: no answer within 30s")
	}
	return ""
}

func (l *locker) do(format string, args ...any) string {
	l.t.Helper()
	l.send(format, args...)
	return l.reply()
}

// kill ends the child with SIGKILL. A child blocked in a lock request
// exits only once the file system answered the kernel's interrupt.
func (l *locker) kill() {
	if l.killed {
		return
	}
	l.killed = true
	l.cmd.Process.Kill()
	l.in.Close()
	done := make(chan struct{})
	go func() {
		l.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		l.t.Errorf("locker: still alive 30s after SIGKILL: a lock request was not answered")
	}
}
