package testmount

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/client"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/testbin"
	"github.com/ferryfs/ferry/internal/volume/mount"
)

// ServeOptions configure StartServe.
type ServeOptions struct {
	Lease         time.Duration // 0: 2 s
	RecallTimeout time.Duration // 0: 1 s
	Listen        string        // 0: tcp://127.0.0.1:0
}

// Service is a `ferry serve` process of the built binary, on a fresh
// volume, stopped when the test ends.
type Service struct {
	VolDir string
	Addr   string // where it listens, as clients name it
	opts   ServeOptions
	bin    string

	mu   sync.Mutex
	cmd  *exec.Cmd
	logs strings.Builder
	exit chan struct{}
}

var listenLine = regexp.MustCompile(`msg=serving .* listen=(\S+)`)

// StartServe starts `ferry serve` on a new volume.
func StartServe(t testing.TB, opts ServeOptions) *Service {
	t.Helper()
	if opts.Lease == 0 {
		opts.Lease = 2 * time.Second
	}
	if opts.RecallTimeout == 0 {
		opts.RecallTimeout = time.Second
	}
	if opts.Listen == "" {
		opts.Listen = "tcp://127.0.0.1:0"
	}
	s := &Service{VolDir: t.TempDir(), opts: opts, bin: testbin.Ferry(t)}
	s.start(t, opts.Listen)
	t.Cleanup(func() {
		s.Stop(t)
		if t.Failed() {
			t.Logf("ferry serve log:\n%s", s.Logs())
		}
	})
	return s
}

func (s *Service) start(t testing.TB, listen string) {
	t.Helper()
	cmd := exec.Command(s.bin, "serve", s.VolDir, "--listen", listen,
		"--lease", s.opts.Lease.String(), "--recall-timeout", s.opts.RecallTimeout.String())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ferry serve: %v", err)
	}
	addr := make(chan string, 1)
	exit := make(chan struct{})
	go func() {
		r := bufio.NewReader(stderr)
		for {
			line, err := r.ReadString('\n')
			s.mu.Lock()
			s.logs.WriteString(line)
			s.mu.Unlock()
			if m := listenLine.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			if err != nil {
				io.Copy(io.Discard, r)
				cmd.Wait()
				close(exit)
				return
			}
		}
	}()
	select {
	case a := <-addr:
		s.mu.Lock()
		s.Addr, s.cmd, s.exit = a, cmd, exit
		s.mu.Unlock()
	case <-exit:
		t.Fatalf("ferry serve exited before it listened:\n%s", s.Logs())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("ferry serve did not listen within 30s:\n%s", s.Logs())
	}
}

// Logs returns what the service logged so far.
func (s *Service) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// Kill ends the service with SIGKILL and waits for it to exit.
func (s *Service) Kill(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGKILL)
}

// Stop ends the service with SIGTERM (a clean shutdown).
func (s *Service) Stop(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGTERM)
}

func (s *Service) signal(t testing.TB, sig syscall.Signal) {
	s.mu.Lock()
	cmd, exit := s.cmd, s.exit
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-exit:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-exit
		t.Errorf("ferry serve did not stop within 30s of %v", sig)
	}
}

// Restart starts the service again on the same volume and address.
func (s *Service) Restart(t testing.TB) {
	t.Helper()
	s.start(t, s.Addr)
}

// Remote is a mount of a service's volume, served by this test process.
type Remote struct {
	Dir    string
	Client *client.Client
	M      *mount.Mount
}

// RemoteOptions configure NewRemote.
type RemoteOptions struct {
	Patience time.Duration // 0: 30 s
	Debug    bool
	Logger   *slog.Logger
}

// NewRemote mounts the volume of the service at addr on a temporary
// directory; the mount ends with the test.
func NewRemote(t testing.TB, addr string, opts RemoteOptions) *Remote {
	t.Helper()
	RequireFUSE(t)
	if opts.Patience == 0 {
		opts.Patience = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	addrs, err := rpc.ParseAddrs(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, client.Options{Addrs: addrs, Patience: opts.Patience, Logger: opts.Logger})
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	dir := t.TempDir()
	m, err := mount.StartRemote(c, addr, dir, mount.Options{Debug: opts.Debug, Logger: opts.Logger})
	if err != nil {
		c.Close()
		t.Fatalf("mount %s: %v", addr, err)
	}
	r := &Remote{Dir: dir, Client: c, M: m}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("close session: %v", err)
		}
	})
	return r
}

// Path joins the mount point and a relative path.
func (r *Remote) Path(rel string) string { return fmt.Sprintf("%s/%s", r.Dir, rel) }
