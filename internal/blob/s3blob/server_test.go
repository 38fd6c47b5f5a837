package s3blob

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The tests run against versitygw, an S3 gateway over a local directory,
// started on a free loopback port for each test. scripts/versitygw.sh
// builds it and scripts/test.sh exports its path as FERRY_VERSITYGW.

const (
	testAccess = "ferrytestaccess"
	testSecret = "ferrytestsecret-0123456789"
)

// TestMain makes the AWS credential chain find the test server's keys in
// the environment and nothing from the machine it runs on.
func TestMain(m *testing.M) {
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           testAccess,
		"AWS_SECRET_ACCESS_KEY":       testSecret,
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_S3":         "",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		os.Setenv(k, v)
	}
	os.Exit(m.Run())
}

// versitygwVersion is the version scripts/versitygw.sh installs.
const versitygwVersion = "v1.8.0"

// versitygwBinary finds the server: $FERRY_VERSITYGW, the cache
// directories scripts/versitygw.sh installs into, then $PATH. Without it
// the test is skipped, or fails under CI=true.
func versitygwBinary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("FERRY_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("FERRY_VERSITYGW: %v", err)
		}
		return p
	}
	name := "versitygw-" + versitygwVersion
	candidates := []string{filepath.Join("/var/cache/ferry/bin", name)}
	if dir, err := os.UserCacheDir(); err == nil {
		candidates = append(candidates, filepath.Join(dir, "ferry/bin", name))
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c
		}
	}
	const reason = "versitygw not found (run scripts/versitygw.sh and set FERRY_VERSITYGW)"
	if os.Getenv("CI") == "true" {
		tb.Fatalf("this test needs an S3 server, and CI=true requires every test to run: %s", reason)
	}
	tb.Skip(reason)
	return ""
}

// server is one versitygw process serving dir on a loopback port.
type server struct {
	tb      testing.TB
	bin     string
	dir     string // the buckets
	home    string
	addr    string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	out     *syncBuffer
	buckets atomic.Int32
}

// startServer starts versitygw on a free port over a new temporary
// directory, and stops it when the test ends. A port taken by another
// process between the search and the server's start costs another try.
func startServer(tb testing.TB) *server {
	tb.Helper()
	srv := &server{tb: tb, bin: versitygwBinary(tb), dir: tb.TempDir(), home: tb.TempDir()}
	tb.Cleanup(srv.kill)
	var err error
	for range 3 {
		srv.addr = freeAddr(tb)
		if err = srv.tryStart(); err == nil {
			return srv
		}
	}
	tb.Fatal(err)
	return nil
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start starts the server again, on the same port and directory.
func (srv *server) start() {
	srv.tb.Helper()
	if err := srv.tryStart(); err != nil {
		srv.tb.Fatal(err)
	}
}

// tryStart runs the server and waits (at most 20s) until it answers.
func (srv *server) tryStart() error {
	srv.out = &syncBuffer{}
	cmd := exec.Command(srv.bin, "--access", testAccess, "--secret", testSecret,
		"--port", srv.addr, "--quiet", "posix", srv.dir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + srv.home}
	cmd.Stdout, cmd.Stderr = srv.out, srv.out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %v", err)
	}
	srv.cmd = cmd
	exited := make(chan struct{})
	srv.exited = exited
	go func() { cmd.Wait(); close(exited) }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			srv.cmd = nil
			return fmt.Errorf("versitygw exited at start: %s", srv.out)
		default:
		}
		if c, err := net.DialTimeout("tcp", srv.addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			srv.kill()
			return fmt.Errorf("versitygw did not listen on %s within 20s: %s", srv.addr, srv.out)
		}
	}
}

// kill stops the server at once, as a crash would, and waits for it.
func (srv *server) kill() {
	if srv.cmd == nil {
		return
	}
	srv.cmd.Process.Signal(syscall.SIGCONT) // a stopped process dies only once resumed
	srv.cmd.Process.Kill()
	<-srv.exited
	srv.cmd = nil
}

// stop stops the server (SIGSTOP) and waits, at most 10s, until the
// kernel says it is stopped: the signal takes effect asynchronously.
func (srv *server) stop() {
	if err := srv.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		srv.tb.Fatalf("stop versitygw: %v", err)
	}
	stat := fmt.Sprintf("/proc/%d/stat", srv.cmd.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(stat)
		if err != nil {
			srv.tb.Fatalf("stop versitygw: %v", err)
		}
		// The state follows the command name, which is in parentheses.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && bytes.HasPrefix(b[i:], []byte(") T")) {
			return
		}
	}
	srv.tb.Fatalf("versitygw did not stop within 10s")
}

// resume resumes a stopped server.
func (srv *server) resume() {
	if err := srv.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		srv.tb.Fatalf("resume versitygw: %v", err)
	}
}

func (srv *server) endpoint() string { return "http://" + srv.addr }

// url returns the s3:// URL of bucket/prefix on this server.
func (srv *server) url(bucket, prefix string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s", bucket, prefix, srv.endpoint())
}

// admin returns a plain SDK client for the test's own checks.
func (srv *server) admin() *s3.Client {
	return s3.New(s3.Options{
		Region:                     DefaultRegion,
		BaseEndpoint:               aws.String(srv.endpoint()),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(testAccess, testSecret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// newBucket creates an empty bucket with a name unique on this server.
func (srv *server) newBucket(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("ferry-test-%03d", srv.buckets.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := srv.admin().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		tb.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

// open opens a Store on bucket/prefix of this server, closed at the end of
// the test.
func (srv *server) open(tb testing.TB, bucket, prefix string, opts Options) *Store {
	tb.Helper()
	s, err := Open(context.Background(), srv.url(bucket, prefix), opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// syncBuffer collects a process's output, keeping the first 64 KiB.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 64<<10 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}
