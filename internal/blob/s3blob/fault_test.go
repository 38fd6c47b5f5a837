package s3blob

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
)

// faultOptions make a store give up on a dead service after a few short
// attempts.
var faultOptions = Options{
	MaxAttempts:    3,
	MaxBackoff:     200 * time.Millisecond,
	AttemptTimeout: time.Second,
	DialTimeout:    time.Second,
}

// TestServerKilled kills the server under an open store: every operation
// fails with ErrUnreachable (after its bounded retries, with no hang), and
// once the server is restarted on the same port and directory the same
// store works again and finds what it wrote before.
func TestServerKilled(t *testing.T) {
	srv := startServer(t)
	bucket := srv.newBucket(t)
	s := srv.open(t, bucket, "", faultOptions)
	ctx := context.Background()
	before := randomBytes(1 << 20)
	if err := s.Put(ctx, "k/before", before); err != nil {
		t.Fatal(err)
	}

	srv.kill()
	wantUnreachable(t, s)

	srv.start()
	got, err := s.Get(ctx, "k/before", 0, -1)
	if err != nil || !bytes.Equal(got, before) {
		t.Fatalf("Get after the restart: %d bytes, %v", len(got), err)
	}
	if err := s.Put(ctx, "k/after", []byte("after")); err != nil {
		t.Fatalf("Put after the restart: %v", err)
	}
	wantKeys(t, s, "k/", "k/after", "k/before")
}

// TestServerHung stops the server (SIGSTOP): it still accepts connections
// but answers nothing, which only timeouts can detect. Operations fail with
// ErrUnreachable; once it is resumed the store works again. (The requests
// that timed out wait in the server's sockets and may still be carried out
// once it resumes, as with any remote store: a failed Put or Delete may
// have happened.)
func TestServerHung(t *testing.T) {
	srv := startServer(t)
	bucket := srv.newBucket(t)
	s := srv.open(t, bucket, "", faultOptions)
	ctx := context.Background()
	if err := s.Put(ctx, "k/before", []byte("before")); err != nil {
		t.Fatal(err)
	}

	srv.stop()
	wantUnreachable(t, s)

	srv.resume()
	if err := s.Put(ctx, "k2/after", []byte("after")); err != nil {
		t.Fatalf("Put after the server resumed: %v", err)
	}
	if got, err := s.Get(ctx, "k2/after", 0, -1); err != nil || string(got) != "after" {
		t.Fatalf("Get after the server resumed = %q, %v", got, err)
	}
	wantKeys(t, s, "k2/", "k2/after")
}

// wantUnreachable runs each operation against a dead service and checks
// that it fails with a one-line ErrUnreachable.
func wantUnreachable(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s with the server down = %v, want a one-line ErrUnreachable", op, err)
		}
		t.Logf("%s: %v", op, err)
	}
	check("Put", s.Put(ctx, "k/down", []byte("x")))
	_, err := s.Get(ctx, "k/before", 0, -1)
	check("Get", err)
	check("Delete", s.Delete(ctx, "k/before"))
	check("List", s.List(ctx, "k/", func(blob.Object) error { return nil }))
}

func wantKeys(t *testing.T, s *Store, prefix string, want ...string) {
	t.Helper()
	var keys []string
	err := s.List(context.Background(), prefix, func(o blob.Object) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil || strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Fatalf("List(%q) = %q, %v; want %q", prefix, keys, err, want)
	}
}
