package posixtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv carries the script a re-executed test binary runs instead of the
// tests.
const childEnv = "FERRY_POSIXTEST_CHILD"

// cred is who a child process runs as; nil means root.
type cred struct {
	uid, gid uint32
	groups   []uint32
}

func user(uid, gid uint32, groups ...uint32) *cred { return &cred{uid, gid, groups} }

// childOp is one syscall of a child's script. Which fields count depends on Op.
type childOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Path2 string `json:"path2,omitempty"`
	Flags int    `json:"flags,omitempty"`
	Mode  uint32 `json:"mode,omitempty"`
	UID   int    `json:"uid,omitempty"`
	GID   int    `json:"gid,omitempty"`
	Data  string `json:"data,omitempty"`
	Off   int64  `json:"off,omitempty"`
	Len   int64  `json:"len,omitempty"`
}

// childResult is the outcome of one childOp.
type childResult struct {
	Errno syscall.Errno `json:"errno"`
	Data  string        `json:"data,omitempty"`
	Lock  *lockInfo     `json:"lock,omitempty"`
}

type lockInfo struct {
	Type  int16 `json:"type"`
	Start int64 `json:"start"`
	Len   int64 `json:"len"`
	Pid   int32 `json:"pid"`
}

// runAs runs ops in a child process with credentials c and returns one
// result per op.
func runAs(t testing.TB, c *cred, ops ...childOp) []childResult {
	t.Helper()
	script, err := json.Marshal(ops)
	must(t, "marshal child script", err)
	cmd := exec.Command(childBinary(t), "-test.run=^$")
	cmd.Dir = "/"
	// A binary built with -race sleeps a second at exit unless told not to.
	cmd.Env = append(os.Environ(), childEnv+"="+string(script), "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	if c != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.uid, Gid: c.gid, Groups: c.groups}}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child %v: %v\nstderr: %s", c, err, stderr.String())
	}
	var res []childResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || len(res) != len(ops) {
		t.Fatalf("child output %q: %v (%d results for %d ops)", stdout.String(), err, len(res), len(ops))
	}
	return res
}

// runOneAs runs a single op as c and returns its errno.
func runOneAs(t testing.TB, c *cred, op childOp) syscall.Errno {
	t.Helper()
	return runAs(t, c, op)[0].Errno
}

// wantAs checks that op run as c ends with one of want.
func wantAs(t testing.TB, c *cred, op childOp, want ...syscall.Errno) {
	t.Helper()
	got := runOneAs(t, c, op)
	who := "root"
	if c != nil {
		who = fmt.Sprintf("uid %d gid %d groups %v", c.uid, c.gid, c.groups)
	}
	var err error
	if got != 0 {
		err = got
	}
	wantErrno(t, fmt.Sprintf("%s %s %s as %s", op.Op, op.Path, op.Path2, who), err, want...)
}

// childMain runs a script in the child process and prints the results.
func childMain(script string) int {
	var ops []childOp
	if err := json.Unmarshal([]byte(script), &ops); err != nil {
		fmt.Fprintln(os.Stderr, "bad script:", err)
		return 2
	}
	res := make([]childResult, len(ops))
	var keep []int // descriptors holding locks until exit
	for i, op := range ops {
		r, fd := runChildOp(op)
		if fd >= 0 {
			keep = append(keep, fd)
		}
		res[i] = r
	}
	out, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	os.Stdout.Write(out)
	for _, fd := range keep {
		unix.Close(fd)
	}
	return 0
}

func errnoResult(err error) childResult { return childResult{Errno: errnoOf(err)} }

// runChildOp runs one op; it returns a descriptor to keep open, or -1.
func runChildOp(op childOp) (childResult, int) {
	switch op.Op {
	case "open": // open with Flags and Mode, then close
		fd, err := unix.Open(op.Path, op.Flags|unix.O_CLOEXEC, op.Mode)
		if err == nil {
			unix.Close(fd)
		}
		return errnoResult(err), -1
	case "read":
		b, err := os.ReadFile(op.Path)
		return childResult{Errno: errnoOf(err), Data: string(b)}, -1
	case "write": // pwrite Data at Off through an O_WRONLY descriptor
		fd, err := unix.Open(op.Path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return errnoResult(err), -1
		}
		defer unix.Close(fd)
		_, err = unix.Pwrite(fd, []byte(op.Data), op.Off)
		return errnoResult(err), -1
	case "create":
		fd, err := unix.Open(op.Path, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, op.Mode)
		if err == nil {
			unix.Close(fd)
		}
		return errnoResult(err), -1
	case "mkdir":
		return errnoResult(unix.Mkdir(op.Path, op.Mode)), -1
	case "unlink":
		return errnoResult(unix.Unlink(op.Path)), -1
	case "rmdir":
		return errnoResult(unix.Rmdir(op.Path)), -1
	case "rename":
		return errnoResult(unix.Renameat2(unix.AT_FDCWD, op.Path, unix.AT_FDCWD, op.Path2, uint(op.Flags))), -1
	case "link":
		return errnoResult(unix.Link(op.Path, op.Path2)), -1
	case "symlink":
		return errnoResult(unix.Symlink(op.Path2, op.Path)), -1
	case "chmod":
		return errnoResult(unix.Chmod(op.Path, op.Mode)), -1
	case "chown":
		return errnoResult(unix.Chown(op.Path, op.UID, op.GID)), -1
	case "truncate":
		return errnoResult(unix.Truncate(op.Path, op.Off)), -1
	case "access":
		return errnoResult(unix.Access(op.Path, uint32(op.Flags))), -1
	case "stat":
		var st unix.Stat_t
		err := unix.Stat(op.Path, &st)
		return childResult{Errno: errnoOf(err), Data: fmt.Sprintf("%o %d %d", st.Mode, st.Uid, st.Gid)}, -1
	case "readdir":
		f, err := os.Open(op.Path)
		if err != nil {
			return errnoResult(err), -1
		}
		defer f.Close()
		_, err = f.Readdirnames(-1)
		return errnoResult(err), -1
	case "utimes-now":
		return errnoResult(unix.UtimesNanoAt(unix.AT_FDCWD, op.Path, []unix.Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_NOW}}, 0)), -1
	case "utimes":
		ts := unix.NsecToTimespec(op.Off)
		return errnoResult(unix.UtimesNanoAt(unix.AT_FDCWD, op.Path, []unix.Timespec{ts, ts}, 0)), -1
	case "setxattr":
		return errnoResult(unix.Setxattr(op.Path, op.Path2, []byte(op.Data), op.Flags)), -1
	case "getxattr":
		buf := make([]byte, 4096)
		n, err := unix.Getxattr(op.Path, op.Path2, buf)
		if err != nil {
			return errnoResult(err), -1
		}
		return childResult{Data: string(buf[:n])}, -1
	case "umask-create": // create with Mode under umask Flags
		old := unix.Umask(op.Flags)
		defer unix.Umask(old)
		return runChildOp(childOp{Op: "create", Path: op.Path, Mode: op.Mode})
	case "umask-mkdir":
		old := unix.Umask(op.Flags)
		defer unix.Umask(old)
		return errnoResult(unix.Mkdir(op.Path, op.Mode)), -1
	case "flock": // flock(Flags) on a new descriptor, kept until exit
		fd, err := unix.Open(op.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return errnoResult(err), -1
		}
		if err := unix.Flock(fd, op.Flags); err != nil {
			unix.Close(fd)
			return errnoResult(err), -1
		}
		return childResult{}, fd
	case "setlk": // F_SETLK of type Flags on [Off, Off+Len), kept until exit
		fd, err := unix.Open(op.Path, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return errnoResult(err), -1
		}
		lk := unix.Flock_t{Type: int16(op.Flags), Whence: 0, Start: op.Off, Len: op.Len}
		if err := unix.FcntlFlock(uintptr(fd), unix.F_SETLK, &lk); err != nil {
			unix.Close(fd)
			return errnoResult(err), -1
		}
		return childResult{}, fd
	case "getlk": // F_GETLK for a lock of type Flags on [Off, Off+Len)
		fd, err := unix.Open(op.Path, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return errnoResult(err), -1
		}
		defer unix.Close(fd)
		lk := unix.Flock_t{Type: int16(op.Flags), Whence: 0, Start: op.Off, Len: op.Len}
		if err := unix.FcntlFlock(uintptr(fd), unix.F_GETLK, &lk); err != nil {
			return errnoResult(err), -1
		}
		return childResult{Lock: &lockInfo{Type: lk.Type, Start: lk.Start, Len: lk.Len, Pid: lk.Pid}}, -1
	}
	fmt.Fprintln(os.Stderr, "unknown child op", op.Op)
	os.Exit(2)
	return childResult{}, -1
}
