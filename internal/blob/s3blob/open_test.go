package s3blob

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOpenErrors opens stores that cannot work against a real server and
// checks each error's kind and that it is one line without secrets.
func TestOpenErrors(t *testing.T) {
	srv := startServer(t)
	bucket := srv.newBucket(t)
	quick := Options{OpenTimeout: 3 * time.Second, AttemptTimeout: time.Second, DialTimeout: time.Second}

	t.Run("MissingBucket", func(t *testing.T) {
		err := openErr(t, srv.url("no-such-bucket", ""), quick)
		wantOpenErr(t, err, ErrNoBucket, `bucket "no-such-bucket" does not exist`)
	})
	t.Run("WrongSecret", func(t *testing.T) {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-4711")
		err := openErr(t, srv.url(bucket, ""), quick)
		wantOpenErr(t, err, ErrDenied, "denied")
		if strings.Contains(err.Error(), "not-the-secret-4711") {
			t.Fatalf("the error prints the secret: %v", err)
		}
	})
	t.Run("UnknownKey", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "nosuchkey")
		wantOpenErr(t, openErr(t, srv.url(bucket, ""), quick), ErrDenied, "denied")
	})
	t.Run("NoCredentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		wantOpenErr(t, openErr(t, srv.url(bucket, ""), quick), ErrDenied, "no usable AWS credentials")
	})
	t.Run("ClosedPort", func(t *testing.T) {
		url := "s3://" + bucket + "?endpoint=http://" + freeAddr(t)
		wantOpenErr(t, openErr(t, url, quick), ErrUnreachable, "connection refused")
	})
	t.Run("SilentServer", func(t *testing.T) {
		// Accepts connections and never answers: only the timeouts end
		// the wait.
		addr := silentServer(t)
		wantOpenErr(t, openErr(t, "s3://"+bucket+"?endpoint=http://"+addr, quick), ErrUnreachable, "unreachable")
	})
	t.Run("WrongRegion", func(t *testing.T) {
		err := openErr(t, srv.url(bucket, "")+"&region=eu-west-3", quick)
		wantOpenErr(t, err, nil, "eu-west-3")
	})
	t.Run("RegionFromEnvironment", func(t *testing.T) {
		t.Setenv("AWS_REGION", "eu-west-3") // the URL names none
		wantOpenErr(t, openErr(t, srv.url(bucket, ""), quick), nil, "not in region eu-west-3")
	})
	t.Run("BadURL", func(t *testing.T) {
		wantOpenErr(t, openErr(t, "s3://"+bucket+"?secret_key=hunter2", quick), ErrBadURL, "credentials do not belong")
	})
	t.Run("SmallParts", func(t *testing.T) {
		opts := quick
		opts.PartSize = 1 << 20
		err := openErr(t, srv.url(bucket, ""), opts)
		if err == nil || !strings.Contains(err.Error(), "below the S3 minimum") {
			t.Fatalf("Open with 1 MiB parts = %v", err)
		}
	})
}

func openErr(t *testing.T, url string, opts Options) error {
	t.Helper()
	s, err := Open(context.Background(), url, opts)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) succeeded", url)
	}
	t.Logf("Open: %v", err)
	return err
}

func wantOpenErr(t *testing.T, err, kind error, text string) {
	t.Helper()
	if kind != nil && !errors.Is(err, kind) || !strings.Contains(err.Error(), text) {
		t.Fatalf("Open = %v\nwant kind %v, containing %q", err, kind, text)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("Open error is not one line: %q", err)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Fatalf("Open error prints the secret: %q", err)
	}
}

// silentServer listens on loopback, accepts connections and holds them
// open without a byte of answer until the test ends.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
