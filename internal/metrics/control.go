package metrics

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ferryfs/ferry/internal/fusefs"
)

// A mount serves its metrics on a control socket named after the mount's
// device number (mountinfo's major:minor, unique among live mounts), so
// that `ferry stats MOUNTPOINT` finds it from the mount table alone: it
// needs no flag, sends no request to the mount (a hung mount can still be
// looked at), and puts no name in the file system. The socket is in the
// first of these directories that can be made: /run/ferry for root,
// $XDG_RUNTIME_DIR/ferry, then $TMPDIR/ferry-UID; it is mode 0600 in a
// 0700 directory, so only the user who mounted (and root) can read it.

// controlDirs returns the directories a control socket may be in, in the
// order they are tried.
func controlDirs() []string {
	var dirs []string
	if os.Geteuid() == 0 {
		dirs = append(dirs, "/run/ferry")
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "ferry"))
	}
	return append(dirs, filepath.Join(os.TempDir(), "ferry-"+strconv.Itoa(os.Geteuid())))
}

// socketName is the control socket's file name for a device "major:minor".
func socketName(device string) string {
	return strings.ReplaceAll(device, ":", "-") + ".sock"
}

// ListenControl serves r on the control socket of the mount with device
// number device ("major:minor"). A socket left there by a mount that is
// gone (the device number is free again) is replaced.
func ListenControl(device string, r *Registry, log *slog.Logger) (*Listener, error) {
	if device == "" || strings.ContainsAny(device, "/") {
		return nil, fmt.Errorf("control socket: bad device %q", device)
	}
	var errs []error
	for _, dir := range controlDirs() {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			errs = append(errs, err)
			continue
		}
		path := filepath.Join(dir, socketName(device))
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		ln, err := net.Listen("unix", path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.Chmod(path, 0o600); err != nil {
			ln.Close()
			errs = append(errs, err)
			continue
		}
		return Listen(ln, r, log), nil
	}
	return nil, fmt.Errorf("control socket: %w", errors.Join(errs...))
}

// ListenMount serves r on the control socket of the mount on dir (an
// absolute path).
func ListenMount(dir string, r *Registry, log *slog.Logger) (*Listener, error) {
	e, err := findMount(dir)
	if err != nil {
		return nil, err
	}
	return ListenControl(e.Device, r, log)
}

// ControlSocket returns the path of the control socket of the mount on
// dir.
func ControlSocket(dir string) (string, error) {
	e, err := findMount(dir)
	if err != nil {
		return "", err
	}
	return findControl(e.Device)
}

// findMount returns the mount on the absolute path dir. The mount table
// names mount points by their real path: a path through a symbolic link
// is resolved, which touches the file systems on the way, so it is the
// second try.
func findMount(dir string) (fusefs.MountEntry, error) {
	e, err := fusefs.FindMount(dir)
	if err == nil {
		return e, nil
	}
	real, rerr := filepath.EvalSymlinks(dir)
	if rerr != nil {
		return fusefs.MountEntry{}, rerr
	}
	if real == dir {
		return fusefs.MountEntry{}, err
	}
	return fusefs.FindMount(real)
}

// findControl returns the control socket of the mount with device
// number device, or an error naming where it looked.
func findControl(device string) (string, error) {
	var tried []string
	for _, dir := range controlDirs() {
		path := filepath.Join(dir, socketName(device))
		if st, err := os.Stat(path); err == nil && st.Mode().Type() == fs.ModeSocket {
			return path, nil
		}
		tried = append(tried, path)
	}
	return "", fmt.Errorf("no control socket (looked for %s); is the mount served by a ferry of this version, and by this user?", strings.Join(tried, ", "))
}
