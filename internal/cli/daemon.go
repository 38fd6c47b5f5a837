package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/ferryfs/ferry/internal/volume"
)

// A background mount ("ferry mount -d") runs the same command again as a
// child in a new session, with the write end of a pipe as fd 3 (named by
// readyEnv). The child writes one line to it, "ready" once the mount is
// live or "error MESSAGE" if it could not mount, and closes it; the
// parent relays that and exits.
const readyEnv = "FERRY_MOUNT_READY_FD"

// childReady returns the readiness pipe if this process is a background
// mount's child, and hides it from anything the child starts.
func childReady() *os.File {
	s, ok := os.LookupEnv(readyEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(readyEnv)
	fd, err := strconv.Atoi(s)
	if err != nil || fd < 3 {
		return nil
	}
	return os.NewFile(uintptr(fd), "ready")
}

// runMountBackground starts the child and waits until it reports.
func runMountBackground(ctx context.Context, e *env, o mountOptions) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(exe, append([]string{"mount"}, o.args...)...)
	cmd.Env = append(os.Environ(), readyEnv+"=3")
	cmd.ExtraFiles = []*os.File{w} // becomes fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// Stdin, stdout and stderr are /dev/null until the child opens its log.
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("start background mount: %w", err)
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	var line string
	select {
	case line = <-lines:
	case <-ctx.Done():
		cmd.Process.Kill()
		cmd.Wait()
		return errors.New("interrupted before the mount was ready")
	}
	switch {
	case line == "ready":
		vol := o.vol
		if !isRemote(vol) {
			vol, _ = filepath.Abs(o.vol)
		}
		mnt, _ := filepath.Abs(o.mnt)
		fmt.Fprintf(e.stdout, "mounted %s on %s in the background (pid %d, log %s)\n",
			volume.Redact(vol), mnt, cmd.Process.Pid, o.logPath(cmd.Process.Pid))
		return cmd.Process.Release()
	case strings.HasPrefix(line, "error "):
		cmd.Wait()
		return errors.New(strings.TrimPrefix(line, "error "))
	default:
		werr := cmd.Wait()
		if werr == nil {
			werr = errors.New("exit status 0")
		}
		return fmt.Errorf("background mount ended before the mount was ready: %v", werr)
	}
}

// runMountChild is the background child: it mounts, reports, and serves.
func runMountChild(ctx context.Context, e *env, o mountOptions, ready *os.File) error {
	defer ready.Close()
	var err error
	if !isRemote(o.vol) {
		o.vol, err = filepath.Abs(o.vol)
	}
	if err == nil {
		o.mnt, err = filepath.Abs(o.mnt)
	}
	if err == nil {
		// Do not keep the caller's working directory busy.
		err = os.Chdir("/")
	}
	reported := false
	if err == nil {
		err = runMount(ctx, e, o, func(log *slog.Logger) {
			if lerr := openLog(o.logPath(os.Getpid())); lerr != nil {
				log.Warn("no log file: logging nowhere", "err", lerr)
			}
			log.Info("mounted in the background", "volume", volume.Redact(o.vol), "mountpoint", o.mnt, "pid", os.Getpid())
			fmt.Fprintln(ready, "ready")
			ready.Close()
			reported = true
		})
	}
	if err != nil && !reported {
		fmt.Fprintf(ready, "error %s\n", oneLine(err))
	}
	return err
}

// redirectStdio makes fd the process's stdout and stderr.
func redirectStdio(fd int) error {
	if err := syscall.Dup3(fd, 1, 0); err != nil {
		return err
	}
	return syscall.Dup3(fd, 2, 0)
}
