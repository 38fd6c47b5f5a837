package s3blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The tests in this file need answers no real server gives on demand (a
// stalled body, 5xx, throttling), so they run against loopback HTTP servers
// that imitate only what each test needs, beginning with the empty listing
// with which Open checks the bucket.

// misbehaving starts a loopback server that answers Open's bucket check
// and passes every other request to h.
func misbehaving(t *testing.T, h http.HandlerFunc) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Has("list-type") {
			w.Header().Set("Content-Type", "application/xml")
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bucket</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`))
			return
		}
		h(w, r)
	}))
	t.Cleanup(ts.Close)
	return "s3://bucket?endpoint=" + ts.URL
}

// TestGetBodyStall serves a Get whose body stops half way. Get must give up
// on each stalled body, ask again up to MaxAttempts times, and fail with
// ErrUnreachable.
func TestGetBodyStall(t *testing.T) {
	var gets atomic.Int32
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	url := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(strings.Repeat("x", 10)))
		w.(http.Flusher).Flush()
		select { // the other 90 bytes never come
		case <-r.Context().Done():
		case <-done:
		}
	})

	opts := Options{MaxAttempts: 3, MaxBackoff: 100 * time.Millisecond, AttemptTimeout: 300 * time.Millisecond}
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Get(context.Background(), "obj", 0, -1)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "stalled") {
		t.Fatalf("Get of a stalling body = %v, want ErrUnreachable (stalled)", err)
	}
	t.Logf("Get: %v", err)
	if n := gets.Load(); n != 3 {
		t.Fatalf("the server saw %d GETs, want 3 (MaxAttempts)", n)
	}
}

// TestRetries answers each request with errors before success: throttling
// and 5xx are retried up to MaxAttempts, client errors are not.
func TestRetries(t *testing.T) {
	for _, c := range []struct {
		name     string
		status   int
		code     string
		failures int32 // answers with the error before success
		attempts int32 // requests the server should see
		wantErr  bool
	}{
		{"SlowDown", 503, "SlowDown", 2, 3, false},
		{"InternalError", 500, "InternalError", 2, 3, false},
		{"BadGateway", 502, "", 1, 2, false},
		{"TooManyRequests", 429, "", 1, 2, false},
		{"PersistentError", 500, "InternalError", 100, 3, true},
		{"BadRequest", 400, "InvalidArgument", 100, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var puts atomic.Int32
			url := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPut {
					http.Error(w, "unexpected", http.StatusMethodNotAllowed)
					return
				}
				if n := puts.Add(1); n <= c.failures {
					w.Header().Set("Content-Type", "application/xml")
					w.WriteHeader(c.status)
					if c.code != "" {
						fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>try later</Message></Error>`, c.code)
					}
					return
				}
				w.Header().Set("ETag", `"x"`)
			})
			opts := Options{MaxAttempts: 3, MaxBackoff: 10 * time.Millisecond}
			s, err := Open(context.Background(), url, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Put(context.Background(), "k", []byte("data"))
			if (err != nil) != c.wantErr {
				t.Fatalf("Put = %v, want error: %v", err, c.wantErr)
			}
			if err != nil {
				t.Logf("Put: %v", err)
				if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), c.code) {
					t.Fatalf("Put error %q: want one line naming %s", err, c.code)
				}
			}
			if n := puts.Load(); n != c.attempts {
				t.Fatalf("the server saw %d PUTs, want %d", n, c.attempts)
			}
		})
	}
}
