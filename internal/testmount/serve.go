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
	"strconv"
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
	Args          []string      // more arguments of serve (--tls-cert F ...)
}

// Service is a `ferry serve` process of the built binary, on a fresh
// volume, stopped when the test ends.
//
// Its processes are started by a spawner shell that the test starts
// before it opens anything: a process forked from the test itself would
// inherit the test's open files on Ferry mounts, and closing them at its
// exec sends the kernel's FLUSH, which waits for the very service that is
// being restarted.
type Service struct {
	VolDir string
	Addr   string // where it listens, as clients name it
	opts   ServeOptions
	bin    string
	log    string // the service's stderr, appended across restarts

	mu      sync.Mutex
	spawner *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Reader
	pid     int // of the running service; 0 when none
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
	tmp := t.TempDir()
	s := &Service{VolDir: t.TempDir(), opts: opts, bin: testbin.Ferry(t), log: tmp + "/serve.log"}
	sp := exec.Command("sh", "-c", `while read -r line; do sh -c "$line" </dev/null & echo $!; done`)
	var err error
	if s.in, err = sp.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := sp.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.out = bufio.NewReader(stdout)
	if err := sp.Start(); err != nil {
		t.Fatalf("start spawner: %v", err)
	}
	s.spawner = sp
	s.start(t, opts.Listen)
	t.Cleanup(func() {
		s.Stop(t)
		s.in.Close()
		sp.Wait()
		if t.Failed() {
			t.Logf("ferry serve log:\n%s", s.Logs())
		}
	})
	return s
}

func (s *Service) start(t testing.TB, listen string) {
	t.Helper()
	from := len(s.Logs())
	line := fmt.Sprintf("exec %s serve %s --listen %s --lease %s --recall-timeout %s%s 2>>%s",
		s.bin, s.VolDir, shellQuote(listen), s.opts.Lease, s.opts.RecallTimeout, shellArgs(s.opts.Args), s.log)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := fmt.Fprintln(s.in, line); err != nil {
		t.Fatalf("spawn ferry serve: %v", err)
	}
	pidLine, err := s.out.ReadString('\n')
	if err != nil {
		t.Fatalf("spawn ferry serve: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(pidLine))
	if err != nil {
		t.Fatalf("spawner said %q", pidLine)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		logs := s.Logs()
		if m := listenLine.FindStringSubmatch(logs[min(from, len(logs)):]); m != nil {
			s.Addr, s.pid = m[1], pid
			return
		}
		if !alive(pid) {
			t.Fatalf("ferry serve exited before it listened:\n%s", logs)
		}
		if time.Now().After(deadline) {
			stacks := kernelStacks(pid)
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("ferry serve did not listen within 30s:\n%s\nkernel stacks:\n%s", logs, stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := strings.LastIndexByte(string(st), ')')
	return i >= 0 && i+2 < len(st) && st[i+2] != 'Z'
}

// Logs returns what the service logged so far.
func (s *Service) Logs() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
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
	pid := s.pid
	s.pid = 0
	s.mu.Unlock()
	if pid == 0 {
		return
	}
	syscall.Kill(pid, sig)
	deadline := time.Now().Add(30 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("ferry serve did not stop within 30s of %v", sig)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// RestartWith is Restart with other flags (ServeOptions.Args), after a
// Stop or Kill.
func (s *Service) RestartWith(t testing.TB, args ...string) {
	t.Helper()
	s.opts.Args = args
	s.start(t, s.Addr)
}

// Restart starts the service again on the same volume and address.
func (s *Service) Restart(t testing.TB) {
	t.Helper()
	listen := s.Addr
	if _, q, ok := strings.Cut(s.opts.Listen, "?"); ok {
		listen += "?" + q // how it admits clients
	}
	s.start(t, listen)
}

// Remote is a mount of a service's volume, served by this test process.
type Remote struct {
	Dir    string
	Client *client.Client
	M      *mount.Mount

	closed bool
}

// RemoteOptions configure NewRemote.
type RemoteOptions struct {
	Patience time.Duration // 0: 30 s
	Debug    bool
	Logger   *slog.Logger
	// OpenStore opens the object store the service names; nil: objects
	// go through the service.
	OpenStore client.OpenStore

	Credentials *rpc.Credentials // TLS and token, if the service asks
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
	c, err := client.Connect(ctx, client.Options{Addrs: addrs, Patience: opts.Patience, Logger: opts.Logger, Credentials: opts.Credentials})
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	dir := t.TempDir()
	m, err := mount.StartRemote(ctx, c, addr, dir, mount.Options{Debug: opts.Debug, Logger: opts.Logger, OpenStore: opts.OpenStore})
	if err != nil {
		c.Close()
		t.Fatalf("mount %s: %v", addr, err)
	}
	r := &Remote{Dir: dir, Client: c, M: m}
	t.Cleanup(func() { r.Close(t) })
	return r
}

// Close unmounts and ends the session; the test's cleanup does it too.
func (r *Remote) Close(t testing.TB) {
	t.Helper()
	if r.closed {
		return
	}
	r.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := r.M.Close(ctx); err != nil {
		t.Errorf("unmount %s: %v", r.Dir, err)
	}
	if err := r.Client.Close(); err != nil {
		t.Errorf("close session: %v", err)
	}
}

// Path joins the mount point and a relative path.
func (r *Remote) Path(rel string) string { return fmt.Sprintf("%s/%s", r.Dir, rel) }

// kernelStacks returns where the threads of pid wait in the kernel.
func kernelStacks(pid int) string {
	var b strings.Builder
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	fmt.Fprintf(&b, "exe %s\n%s", exe, status)
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stack", pid, task.Name()))
		fmt.Fprintf(&b, "thread %s:\n%s", task.Name(), st)
	}
	return b.String()
}

// shellQuote quotes s for sh: a listen address may hold ? and &.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shellArgs is args quoted for sh, each after a space.
func shellArgs(args []string) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(" " + shellQuote(a))
	}
	return b.String()
}
