package s3blob

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestGetBodyStall serves a Get whose body stops half way, from a loopback
// HTTP server that imitates only what the test needs (an empty listing
// for Open, then the stalling object). Get must give up on each stalled
// body, ask again up to MaxAttempts times, and fail with ErrUnreachable.
func TestGetBodyStall(t *testing.T) {
	var gets atomic.Int32
	done := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("list-type") {
			w.Header().Set("Content-Type", "application/xml")
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bucket</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`))
			return
		}
		gets.Add(1)
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(strings.Repeat("x", 10)))
		w.(http.Flusher).Flush()
		select { // the other 90 bytes never come
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); ts.Close() })

	opts := Options{MaxAttempts: 3, MaxBackoff: 100 * time.Millisecond, AttemptTimeout: 300 * time.Millisecond}
	s, err := Open(context.Background(), "s3://bucket?endpoint="+ts.URL, opts)
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
