package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/kv/pgkv/pgtest"
	"github.com/ferryfs/ferry/internal/testbin"
	"github.com/ferryfs/ferry/internal/volume"
)

// TestEngineVolume runs format, status, fsck and gc on a volume in
// PostgreSQL, named by its URL alone, and what they say while another
// process holds it.
func TestEngineVolume(t *testing.T) {
	metaURL := pgtest.FreshURL(t)
	shown := volume.Redact(metaURL)
	data := filepath.Join(t.TempDir(), "objects")
	out := ferryOK(t, "format", "--meta", metaURL, "--data", data, "--block-size", "1M", "myvol")
	if !strings.HasPrefix(out, "formatted volume myvol in "+shown+": uuid ") || !strings.Contains(out, "block size 1 MiB, data "+data) {
		t.Errorf("format printed %q", out)
	}
	_, errs, code := ferry(t, "format", "--meta", metaURL, "--data", t.TempDir(), "again")
	if code != 1 || !strings.HasPrefix(errs, "ferry: format: "+shown+` already holds Ferry volume "myvol" (uuid `) {
		t.Errorf("second format: exit %d, %q", code, errs)
	}
	out = ferryOK(t, "status", "--meta", metaURL)
	for _, want := range []string{"name        myvol", "not in use", "inodes      1", "sessions    0 recorded", "data        " + data, "1 MiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if out := ferryOK(t, "fsck", "--meta", metaURL); !strings.Contains(out, "volume is clean") {
		t.Errorf("fsck:\n%s", out)
	}
	if out := ferryOK(t, "gc", "--meta="+metaURL); !strings.Contains(out, "deleted 0 unreferenced objects") {
		t.Errorf("gc:\n%s", out)
	}
	for _, out := range []string{out, errs} {
		if u := strings.Index(metaURL, ":"); strings.Contains(out, metaURL[u:strings.Index(metaURL, "@")]) {
			t.Errorf("output shows the password: %q", out)
		}
	}

	v, err := volume.OpenEngine(context.Background(), metaURL, volume.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	holder := fmt.Sprintf("ferry pid %d on ", os.Getpid())
	for _, cmd := range []string{"fsck", "gc"} {
		_, errs, code := ferry(t, cmd, "--meta", metaURL)
		if want := "ferry: " + cmd + ": volume " + shown + " is in use by another ferry process (" + holder; code != 1 || !strings.HasPrefix(errs, want) {
			t.Errorf("ferry %s of a volume in use: exit %d, %q; want %q...", cmd, code, errs, want)
		}
	}
	// A second service stands by, without listening, until the holder
	// is gone (package standby; the takeover is appliancetest's).
	var standbyLog syncBuffer
	sb := exec.Command(testbin.Ferry(t), "serve", "--meta", metaURL, "--listen", "tcp://127.0.0.1:0")
	sb.Stderr = &standbyLog
	if err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(standbyLog.String(), "standing by"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("second serve did not stand by:\n%s", standbyLog.String())
			break
		}
	}
	sb.Process.Kill()
	sb.Wait()
	if got := standbyLog.String(); !strings.Contains(got, "holder=\"ferry pid") || strings.Contains(got, "msg=serving") {
		t.Errorf("second serve, standing by, names no holder or serves:\n%s", got)
	}
	if out := ferryOK(t, "status", "--meta", metaURL); !strings.Contains(out, "in use by "+holder) {
		t.Errorf("status of a volume in use:\n%s", out)
	}
}

func TestEngineErrors(t *testing.T) {
	metaURL := pgtest.FreshURL(t)
	// Credentials that reach no further than the endpoint, and no look
	// for others off this machine (the EC2 metadata service).
	t.Setenv("AWS_ACCESS_KEY_ID", "ferrytest")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "ferrytest")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"status", "--meta", metaURL}, 1, "holds no Ferry volume"},
		{[]string{"fsck", "--meta", metaURL}, 1, "holds no Ferry volume"},
		{[]string{"format", "--meta", metaURL, "v"}, 1, "needs --data"},
		{[]string{"format", "--data", "/tmp/x", "v"}, 2, "--data needs --meta"},
		{[]string{"serve", "vol", "--meta", metaURL, "--listen", "tcp://127.0.0.1:0"}, 2, "too many arguments"},
		{[]string{"status", "--meta", "mysql://h/db"}, 1, `unknown metadata engine "mysql"`},
		{[]string{"status", "--meta", "postgres://nobody@127.0.0.1:1/db"}, 1, "connection refused"},
		// An object store out of reach is one line at format time, and the
		// volume is not made.
		{[]string{"format", "--meta", metaURL, "--data", "s3://bucket/v?endpoint=http://127.0.0.1:1", "v"}, 1, "unreachable"},
		{[]string{"status", "--meta", metaURL}, 1, "holds no Ferry volume"},
	} {
		_, errs, code := ferry(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("ferry %q: exit %d, %q; want exit %d, %q", tc.args, code, errs, tc.code, tc.want)
		}
		if tc.code == 1 && strings.Count(errs, "\n") != 1 {
			t.Errorf("ferry %q: error is not one line: %q", tc.args, errs)
		}
	}
}

// syncBuffer is a bytes.Buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
