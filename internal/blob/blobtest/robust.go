package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
)

// testConcurrent runs Puts and Gets of different keys from several
// goroutines; the keys share a few parent "directories" so that stores that
// create them on demand race to do so.
func testConcurrent(t *testing.T, s blob.Store) {
	const workers, perWorker = 8, 16
	ctx := context.Background()
	key := func(w, i int) string { return fmt.Sprintf("conc/%02x/%d-%d", i%4, w, i) }
	size := func(w, i int) int { return 1 + (w*perWorker+i)*997%20000 }
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				k, want := key(w, i), payload(uint64(w<<8|i), size(w, i))
				if err := s.Put(ctx, k, want); err != nil {
					errs <- err
					return
				}
				got, err := s.Get(ctx, k, 0, -1)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, want) {
					errs <- fmt.Errorf("Get(%q) returned different bytes", k)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	objs := listAll(t, s, "conc/")
	if len(objs) != workers*perWorker {
		t.Fatalf("List found %d objects, want %d", len(objs), workers*perWorker)
	}
	for w := range workers {
		for i := range perWorker {
			wantGet(t, s, key(w, i), 0, -1, payload(uint64(w<<8|i), size(w, i)))
		}
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	bad := []string{
		"",
		"/",
		"/lead",
		"trail/",
		"double//slash",
		".",
		"..",
		"../up",
		"a/../b",
		"a/..",
		"./a",
		"a/./b",
		"nul\x00byte",
		"new\nline",
		"del\x7f",
		"caf\xc3\xa9",
		strings.Repeat("k", blob.MaxKeyLen+1),
	}
	for _, k := range bad {
		if err := s.Put(ctx, k, []byte("x")); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", k, err)
		}
		if _, err := s.Get(ctx, k, 0, -1); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", k, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
	if objs := listAll(t, s, ""); len(objs) != 0 {
		t.Fatalf("after rejected Puts the store holds %q", keysOf(objs))
	}
}

func testPutCopiesBuffer(t *testing.T, s blob.Store) {
	buf := payload(4, 5000)
	want := bytes.Clone(buf)
	put(t, s, "own/put", buf)
	for i := range buf {
		buf[i] ^= 0xff
	}
	wantGet(t, s, "own/put", 0, -1, want)
}

func testGetOwnsBuffer(t *testing.T, s blob.Store) {
	want := payload(5, 5000)
	put(t, s, "own/get", want)
	for _, r := range [][2]int64{{0, -1}, {100, 200}} {
		b := get(t, s, "own/get", r[0], r[1])
		for i := range b {
			b[i] ^= 0xff
		}
	}
	wantGet(t, s, "own/get", 0, -1, want)
}

// testCanceled checks that every operation refuses a canceled context and
// that a refused Put or Delete changed nothing.
func testCanceled(t *testing.T, s blob.Store) {
	put(t, s, "ctx/kept", []byte("k"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, "ctx/new", []byte("n")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context = %v", err)
	}
	if _, err := s.Get(ctx, "ctx/kept", 0, -1); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a canceled context = %v", err)
	}
	if err := s.Delete(ctx, "ctx/kept"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a canceled context = %v", err)
	}
	called := false
	err := s.List(ctx, "", func(blob.Object) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("List with a canceled context = %v (callback called: %v)", err, called)
	}
	if sy, ok := s.(blob.Syncer); ok {
		if err := sy.Sync(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Sync with a canceled context = %v", err)
		}
	}
	wantNotFound(t, s, "ctx/new")
	wantGet(t, s, "ctx/kept", 0, -1, []byte("k"))
	// A Sync refused for its context must not lose track of what it had
	// to make durable: a later Sync still works.
	if err := blob.Sync(context.Background(), s); err != nil {
		t.Fatalf("Sync after a canceled Sync: %v", err)
	}
}

func testSync(t *testing.T, s blob.Store) {
	sy, ok := s.(blob.Syncer)
	if !ok {
		if err := blob.Sync(context.Background(), s); err != nil {
			t.Fatalf("blob.Sync of a store without Syncer: %v", err)
		}
		return
	}
	ctx := context.Background()
	if err := sy.Sync(ctx); err != nil {
		t.Fatalf("Sync of an empty store: %v", err)
	}
	for i := range 10 {
		put(t, s, fmt.Sprintf("sync/%d/%d", i%3, i), payload(uint64(i), 100*i))
	}
	if err := s.Delete(ctx, "sync/0/0"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := sy.Sync(ctx); err != nil {
			t.Fatalf("Sync #%d: %v", i+1, err)
		}
	}
	if n := len(listAll(t, s, "sync/")); n != 9 {
		t.Fatalf("after Sync, List finds %d objects, want 9", n)
	}
}
