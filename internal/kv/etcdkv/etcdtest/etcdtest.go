// Package etcdtest starts real etcd clusters on loopback for tests: the
// etcd server binary of $FERRY_ETCD or PATH (scripts/etcd.sh installs
// Debian's), members in temporary directories, killed with the test
// process however it ends.
package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The limits the test clusters run with, and the URL parameters that say
// so. kvtest's LargeTxn commits 12 MiB in one Update and ManyKeys deletes
// 5,000 keys in one.
const (
	MaxTxnOps       = 16384
	MaxRequestBytes = 16 << 20
	Params          = "?max-txn-ops=16384&max-request-bytes=16777216"
)

// Binary returns the etcd server to run: $FERRY_ETCD, else etcd on
// PATH (scripts/etcd.sh installs it). Without one the test is skipped,
// except under CI=true, where it fails.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("FERRY_ETCD")
	if bin == "" {
		bin, _ = exec.LookPath("etcd")
	}
	if bin != "" {
		if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return bin
		}
	}
	msg := "no etcd server binary: FERRY_ETCD is unset and no etcd is on PATH"
	if env := os.Getenv("FERRY_ETCD"); env != "" {
		msg = fmt.Sprintf("no etcd server binary: FERRY_ETCD=%q is not an executable file", env)
	}
	msg += " (bash scripts/etcd.sh installs Debian's etcd-server)"
	if os.Getenv("CI") == "true" {
		t.Fatalf("this test needs a real etcd cluster, and CI=true requires every test to run: %s", msg)
		return ""
	}
	t.Skipf("%s", msg)
	return ""
}

// member is one etcd process of a test cluster.
type member struct {
	name   string
	client string // HOST:PORT
	peer   string
	dir    string
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
}

// Cluster is a real etcd cluster of n members on loopback, in temporary
// directories.
type Cluster struct {
	dir     string
	Members []*member
	mu      sync.Mutex
}

// freePorts returns n distinct free loopback ports.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// Start starts n members and waits until every one answers and
// the cluster has a leader. The caller stops it.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	bin := Binary(t)
	dir, err := os.MkdirTemp("", "ferry-etcd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{dir: dir}
	ports := freePorts(t, 2*n)
	var initial []string
	for i := range n {
		m := &member{
			name:   fmt.Sprintf("m%d", i),
			client: fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			peer:   fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			dir:    filepath.Join(dir, fmt.Sprintf("m%d", i)),
		}
		c.Members = append(c.Members, m)
		initial = append(initial, m.name+"=http://"+m.peer)
	}
	for _, m := range c.Members {
		if err := m.start(bin, strings.Join(initial, ","), filepath.Base(dir)); err != nil {
			c.Stop()
			t.Fatalf("start etcd %s: %v", m.name, err)
		}
	}
	if err := c.WaitHealthy(60 * time.Second); err != nil {
		logs := c.Logs()
		c.Stop()
		t.Fatalf("etcd cluster did not become healthy: %v\n%s", err, logs)
	}
	return c
}

func (m *member) start(bin, initial, token string) error {
	log, err := os.Create(m.dir + ".log")
	if err != nil {
		return err
	}
	defer log.Close()
	m.cmd = exec.Command(bin,
		"--name", m.name,
		"--data-dir", m.dir,
		"--listen-client-urls", "http://"+m.client,
		"--advertise-client-urls", "http://"+m.client,
		"--listen-peer-urls", "http://"+m.peer,
		"--initial-advertise-peer-urls", "http://"+m.peer,
		"--initial-cluster", initial,
		"--initial-cluster-state", "new",
		"--initial-cluster-token", token,
		"--max-txn-ops", fmt.Sprint(MaxTxnOps),
		"--max-request-bytes", fmt.Sprint(MaxRequestBytes),
		"--logger", "zap",
		"--log-level", "warn",
	)
	m.cmd.Stdout, m.cmd.Stderr = log, log
	// The members die with the test process, however it ends.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		return err
	}
	m.done = make(chan struct{})
	go func() {
		_ = m.cmd.Wait()
		close(m.done)
	}()
	return nil
}

// Endpoints returns the client addresses of the members, or of the ones
// given.
func (c *Cluster) Endpoints(which ...int) []string {
	if len(which) == 0 {
		for i := range c.Members {
			which = append(which, i)
		}
	}
	var eps []string
	for _, i := range which {
		eps = append(eps, c.Members[i].client)
	}
	return eps
}

// URL returns the etcd:// URL of prefix on the given members (all by
// default), with the test limits.
func (c *Cluster) URL(prefix string, which ...int) string {
	return "etcd://" + strings.Join(c.Endpoints(which...), ",") + "/" + prefix + Params
}

// Client returns a plain etcd client of the cluster, for the tests' own
// checks.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), Logger: zap.NewNop(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// WaitHealthy waits until every running member reports a leader.
func (c *Cluster) WaitHealthy(limit time.Duration) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	deadline := time.Now().Add(limit)
	for {
		err := c.checkMembers(cli)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) checkMembers(cli *clientv3.Client) error {
	for _, m := range c.Members {
		select {
		case <-m.done:
			continue // killed on purpose, or crashed: logs tell
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := cli.Status(ctx, "http://"+m.client)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		if st.Leader == 0 {
			return fmt.Errorf("%s: no leader", m.name)
		}
	}
	return nil
}

// Leader returns the index of the member that leads.
func (c *Cluster) Leader(t testing.TB) int {
	t.Helper()
	cli := c.Client(t)
	for i, m := range c.Members {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		st, err := cli.Status(ctx, "http://"+m.client)
		cancel()
		if err == nil && st.Leader == st.Header.MemberId {
			return i
		}
	}
	t.Fatal("no member says it leads")
	return -1
}

// Kill ends member i with SIGKILL and waits for it.
func (c *Cluster) Kill(i int) {
	m := c.Members[i]
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	<-m.done
}

// Stop kills every member and removes the data directories.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.Members {
		c.Kill(i)
	}
	_ = os.RemoveAll(c.dir)
}

// Logs returns what the members logged.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, m := range c.Members {
		data, err := os.ReadFile(m.dir + ".log")
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(&b, "%s: %v\n", m.name, err)
		}
		fmt.Fprintf(&b, "--- %s\n%s", m.name, data)
	}
	return b.String()
}
