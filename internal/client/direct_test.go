package client

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/blobtest"
	"github.com/ferryfs/ferry/internal/blob/faulty"
	"github.com/ferryfs/ferry/internal/blob/memblob"
	"github.com/ferryfs/ferry/internal/wire"
)

var errDown = errors.New("connection refused")

// reachable is a store that can be cut off: every call fails while down.
type reachable struct {
	blob.Store
	down atomic.Bool
}

func (r *reachable) Put(ctx context.Context, key string, data []byte) error {
	if r.down.Load() {
		return errDown
	}
	return r.Store.Put(ctx, key, data)
}

func (r *reachable) Get(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if r.down.Load() {
		return nil, errDown
	}
	return r.Store.Get(ctx, key, off, n)
}

func (r *reachable) Delete(ctx context.Context, key string) error {
	if r.down.Load() {
		return errDown
	}
	return r.Store.Delete(ctx, key)
}

func (r *reachable) List(ctx context.Context, prefix string, fn func(blob.Object) error) error {
	if r.down.Load() {
		return errDown
	}
	return r.Store.List(ctx, prefix, fn)
}

// directPair is a store reached two ways, as a client sees the volume's
// store: directly, and through the service (counted).
func directPair(t *testing.T) (*Direct, *reachable, *faulty.Store, *time.Time) {
	t.Helper()
	shared := memblob.New()
	own := &reachable{Store: shared}
	via := faulty.New(shared)
	d := NewDirect(own, via, nil)
	now := time.Unix(1000, 0)
	d.now = func() time.Time { return now }
	return d, own, via, &now
}

func TestDirectConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		d, _, _, _ := directPair(t)
		return d
	})
}

func TestDirectBypassesService(t *testing.T) {
	ctx := context.Background()
	d, _, via, _ := directPair(t)
	if err := d.Put(ctx, "blocks/a", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	got, err := d.Get(ctx, "blocks/a", 1, 3)
	if err != nil || string(got) != "ell" {
		t.Fatalf("Get = %q, %v; want ell", got, err)
	}
	if _, err := d.Get(ctx, "blocks/missing", 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get of a missing object: %v, want ErrNotFound", err)
	}
	if err := d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if c := via.Counts(); c != (faulty.Counts{}) {
		t.Fatalf("the service saw %+v; want no call", c)
	}
}

func TestDirectFallsBackAndReturns(t *testing.T) {
	ctx := context.Background()
	d, own, via, now := directPair(t)
	own.down.Store(true)
	if err := d.Put(ctx, "blocks/b", []byte("through")); err != nil {
		t.Fatalf("Put with the store out of reach: %v", err)
	}
	got, err := d.Get(ctx, "blocks/b", 0, -1)
	if err != nil || !bytes.Equal(got, []byte("through")) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	c := via.Counts()
	if c.Puts != 1 || c.Gets != 1 || c.Syncs != 1 {
		t.Fatalf("through the service: %+v; want 1 put, 1 get, 1 sync", c)
	}
	// Within DirectRetry the store is not tried again, even if back.
	own.down.Store(false)
	if _, err := d.Get(ctx, "blocks/b", 0, -1); err != nil {
		t.Fatal(err)
	}
	if c := via.Counts(); c.Gets != 2 {
		t.Fatalf("gets through the service: %d, want 2", c.Gets)
	}
	// After it, objects go directly again, and a Sync with nothing put
	// through the service does not call it.
	*now = now.Add(DirectRetry)
	if err := d.Put(ctx, "blocks/c", []byte("direct")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, "blocks/c", 0, -1); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if c := via.Counts(); c.Puts != 1 || c.Gets != 2 || c.Syncs != 1 {
		t.Fatalf("through the service after the retry: %+v; want no new call", c)
	}
}

func TestDirectCanceledCallIsNotAFailure(t *testing.T) {
	d, own, via, _ := directPair(t)
	own.down.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Put(ctx, "blocks/d", []byte("x")); err == nil {
		t.Fatal("Put with a canceled context and the store down succeeded")
	}
	if c := via.Counts(); c.Puts != 0 {
		t.Fatalf("a canceled call went through the service: %+v", c)
	}
	if !d.useDirect() {
		t.Fatal("a canceled call took the store out of use")
	}
}

func TestDataStoreChoice(t *testing.T) {
	ctx := context.Background()
	shared := memblob.New()
	open := func(_ context.Context, url string) (blob.Store, error) {
		if url != "mem://shared" {
			return nil, errors.New("unknown store")
		}
		return shared, nil
	}
	for _, tt := range []struct {
		name, data string
		open       OpenStore
		direct     bool
	}{
		{"no store named", "", open, false},
		{"no opener", "mem://shared", nil, false},
		{"store out of reach", "mem://other", open, false},
		{"store that fails the probe", "mem://shared", func(context.Context, string) (blob.Store, error) {
			r := &reachable{Store: shared}
			r.down.Store(true)
			return r, nil
		}, false},
		{"store reached", "mem://shared", open, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient()
			c.hello = wire.HelloReply{Data: tt.data}
			_, isDirect := c.DataStore(ctx, tt.open).(*Direct)
			if isDirect != tt.direct {
				t.Fatalf("direct = %v, want %v", isDirect, tt.direct)
			}
		})
	}
}
