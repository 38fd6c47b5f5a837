package etcdkv_test

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/ferryfs/ferry/internal/kv/etcdkv/etcdtest"
	"net"
	"strings"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/etcdkv"
)

// TestTooLarge checks that an Update over the limits fails with ErrTooLarge
// and a one-line message, and applies nothing: refused before sending when
// the URL states the limits, refused by the cluster when the URL claims
// more than it allows.
func TestTooLarge(t *testing.T) {
	c := sharedCluster(t)
	hosts := strings.Join(c.Endpoints(), ",")
	cases := []struct {
		name   string
		params string
		keys   int
		size   int
		want   string
	}{
		{"ops, stated limit", "?max-txn-ops=128", 129, 1, "max-txn-ops=128"},
		{"bytes, default limit", "", 1, 2 << 20, "max-request-bytes=1572864"},
		{"ops, cluster's limit", "?max-txn-ops=100000", etcdtest.MaxTxnOps + 1, 1, "too many operations"},
		{"bytes, cluster's limit", "?max-request-bytes=67108864", 1, etcdtest.MaxRequestBytes + 1<<20, "max-request-bytes=67108864"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openURL(t, "etcd://"+hosts+"/"+newPrefix("limits")+tc.params)
			value := bytes.Repeat([]byte("v"), tc.size)
			err := s.Update(t.Context(), func(tx kv.Txn) error {
				if _, err := tx.Get([]byte("k/0")); !errors.Is(err, kv.ErrNotFound) {
					return err
				}
				for i := range tc.keys {
					tx.Set(fmt.Appendf(nil, "k/%d", i), value)
				}
				return nil
			})
			if !errors.Is(err, etcdkv.ErrTooLarge) {
				t.Fatalf("Update = %v, want ErrTooLarge", err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q: want one line naming %q", msg, tc.want)
			}
			t.Logf("refused: %v", err)
			n := 0
			if err := s.View(t.Context(), func(r kv.Reader) error {
				return r.Scan(nil, nil, func(_, _ []byte) bool { n++; return true })
			}); err != nil || n != 0 {
				t.Fatalf("after a refused Update: %d keys, %v; want none", n, err)
			}
		})
	}
}

// TestUnreachable opens a cluster nobody serves: a one-line ErrUnreachable
// once the dial timeout has passed.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens there now
	url := "etcd://" + addr + ",127.0.0.1:1/vol?dial-timeout=500ms"
	s, err := etcdkv.Open(t.Context(), url, etcdkv.Options{})
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) succeeded", url)
	}
	if !errors.Is(err, etcdkv.ErrUnreachable) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Open = %q, want one line with ErrUnreachable naming %s", err, addr)
	}
	t.Logf("refused: %v", err)
}

func TestBadURL(t *testing.T) {
	for _, url := range []string{"etcd://127.0.0.1:2379", "etcd://127.0.0.1/x", "http://127.0.0.1:2379/x"} {
		if _, err := etcdkv.Open(t.Context(), url, etcdkv.Options{}); !errors.Is(err, etcdkv.ErrBadURL) {
			t.Errorf("Open(%q) = %v, want ErrBadURL", url, err)
		}
	}
}

// stopRecorder is a testing.TB whose Fatalf and Skipf record instead of
// stopping the test.
type stopRecorder struct {
	testing.TB
	fatal, skip string
}

func (r *stopRecorder) Helper()                           {}
func (r *stopRecorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }
func (r *stopRecorder) Skipf(format string, args ...any)  { r.skip = fmt.Sprintf(format, args...) }

// TestWithoutEtcd: without a server binary the cluster tests skip, and
// fail under CI=true.
func TestWithoutEtcd(t *testing.T) {
	t.Setenv("FERRY_ETCD", t.TempDir()+"/no-etcd")
	t.Setenv("CI", "true")
	r := &stopRecorder{TB: t}
	etcdtest.Binary(r)
	if r.skip != "" || !strings.Contains(r.fatal, "CI=true") || !strings.Contains(r.fatal, "no-etcd") {
		t.Errorf("under CI=true: fatal %q, skip %q; want a failure naming the binary", r.fatal, r.skip)
	}
	t.Setenv("CI", "")
	r = &stopRecorder{TB: t}
	etcdtest.Binary(r)
	if r.fatal != "" || !strings.Contains(r.skip, "no-etcd") {
		t.Errorf("outside CI: fatal %q, skip %q; want a skip naming the binary", r.fatal, r.skip)
	}
}
