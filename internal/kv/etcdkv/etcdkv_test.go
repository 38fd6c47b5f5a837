package etcdkv_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/ferryfs/ferry/internal/kv/etcdkv/etcdtest"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/etcdkv"
	"github.com/ferryfs/ferry/internal/kv/kvtest"
)

// shared is the three-member cluster most tests use, each under a key
// prefix of its own; it is started by the first test that needs it and
// stopped when the tests end. Tests that kill members start their own.
var (
	sharedOnce sync.Once
	shared     *etcdtest.Cluster
	sharedErr  string
	prefixes   atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// sharedCluster returns the shared cluster, starting it on first use.
func sharedCluster(t testing.TB) *etcdtest.Cluster {
	t.Helper()
	etcdtest.Binary(t) // skips or fails before anything else
	sharedOnce.Do(func() {
		st := &startT{TB: t}
		func() {
			defer func() { _ = recover() }()
			shared = etcdtest.Start(st, 3)
		}()
		sharedErr = st.msg
	})
	if shared == nil {
		t.Fatalf("shared etcd cluster: %s", sharedErr)
	}
	return shared
}

// startT lets the shared cluster be started under any test without tying
// its failure to that test alone: Fatalf records the message and unwinds.
type startT struct {
	testing.TB
	msg string
}

func (s *startT) Fatalf(format string, args ...any) {
	s.msg = fmt.Sprintf(format, args...)
	panic(s.msg)
}

func (s *startT) Fatal(args ...any) {
	s.msg = fmt.Sprint(args...)
	panic(s.msg)
}

// newPrefix returns a key prefix no other test uses.
func newPrefix(what string) string {
	return fmt.Sprintf("ferrytest/%s-%d", what, prefixes.Add(1))
}

// open opens a store on a fresh prefix of c, closed when the test ends.
func open(t testing.TB, c *etcdtest.Cluster, what string) *etcdkv.Store {
	t.Helper()
	return openURL(t, c.URL(newPrefix(what)))
}

func openURL(t testing.TB, url string) *etcdkv.Store {
	t.Helper()
	return openWith(t, url, etcdkv.Options{})
}

func openWith(t testing.TB, url string, opts etcdkv.Options) *etcdkv.Store {
	t.Helper()
	s, err := etcdkv.Open(t.Context(), url, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	c := sharedCluster(t)
	kvtest.Run(t, func(t *testing.T) kv.Store { return open(t, c, "kvtest") })
}

// TestLargeScan scans more pairs, and more bytes, than one page holds, in
// a View and in an Update that has written into the range.
func TestLargeScan(t *testing.T) {
	s := open(t, sharedCluster(t), "largescan")
	const n, size = 200, 64 << 10
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }
	for b := 0; b < n; b += 50 {
		if err := s.Update(t.Context(), func(tx kv.Txn) error {
			for i := b; i < b+50; i++ {
				tx.Set(fmt.Appendf(nil, "k/%03d", i), value(i))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(r kv.Reader, extra bool) error {
		i := 0
		err := r.Scan(nil, nil, func(k, v []byte) bool {
			if extra && i == 100 && string(k) == "k/099x" {
				extra = false
				return true
			}
			if string(k) != fmt.Sprintf("k/%03d", i) || !bytes.Equal(v, value(i)) {
				t.Errorf("pair %d: key %q, %d bytes", i, k, len(v))
				return false
			}
			i++
			return true
		})
		if err == nil && (i != n || extra) {
			err = fmt.Errorf("scan saw %d pairs, want %d", i, n)
		}
		return err
	}
	if err := s.View(t.Context(), func(r kv.Reader) error { return check(r, false) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set([]byte("k/099x"), nil)
		return check(tx, true)
	}); err != nil {
		t.Fatal(err)
	}
}

// retryCounter is a slog.Handler that counts the store's retried
// transactions.
type retryCounter struct{ n atomic.Int64 }

func (c *retryCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *retryCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "etcd transaction conflict; retrying" {
		c.n.Add(1)
	}
	return nil
}
func (c *retryCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *retryCounter) WithGroup(string) slog.Handler      { return c }
