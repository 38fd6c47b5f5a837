package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
)

// Clients read and write objects themselves when they can reach the
// volume's object store (the service names it in HelloReply.Data), and
// through the service when they cannot: the same objects either way,
// since the service stores them in that very store.

// DirectRetry is how long a client sends objects through the service
// after reaching the store itself failed, before it tries again.
const DirectRetry = 30 * time.Second

// probeTimeout bounds the check that the store is reachable at all.
const probeTimeout = 5 * time.Second

// OpenStore opens an object store from its address.
type OpenStore func(ctx context.Context, url string) (blob.Store, error)

// DataStore returns the object store the data path should use: the
// volume's store reached directly, if the service names one and open
// reaches it, falling back to the service call by call; else the store
// through the service.
func (c *Client) DataStore(ctx context.Context, open OpenStore) blob.Store {
	via := c.Objects()
	url := c.hello.Data
	if url == "" || open == nil {
		return via
	}
	st, err := open(ctx, url)
	if err == nil {
		err = probe(ctx, st)
	}
	if err != nil {
		c.log.Warn("objects go through the service: the store is out of reach", "store", url, "err", err)
		return via
	}
	c.log.Info("objects go to the store directly", "store", url)
	return NewDirect(st, via, c.log)
}

// probe checks that st answers: a Get of a key no object has must say
// ErrNotFound.
func probe(ctx context.Context, st blob.Store) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var b [8]byte
	_, _ = rand.Read(b[:])
	_, err := st.Get(ctx, "probe/"+hex.EncodeToString(b[:]), 0, 1)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	if err == nil {
		return errors.New("probe: a random key exists")
	}
	return fmt.Errorf("probe: %w", err)
}

// Direct is a blob.Store that reaches the volume's objects itself and
// falls back to the service when that fails: the call that failed is
// sent through the service at once, and so are the calls of the next
// DirectRetry. A missing object is an answer, not a failure.
type Direct struct {
	direct blob.Store
	via    blob.Store
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	offUntil time.Time // through the service until then
	viaPuts  bool      // objects Put through the service since the last Sync
}

var (
	_ blob.Store  = (*Direct)(nil)
	_ blob.Syncer = (*Direct)(nil)
)

// NewDirect returns a store that uses direct, and via when direct fails.
func NewDirect(direct, via blob.Store, log *slog.Logger) *Direct {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Direct{direct: direct, via: via, log: log, now: time.Now}
}

// useDirect reports whether calls go to the store itself now.
func (d *Direct) useDirect() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.now().Before(d.offUntil)
}

// failed takes the store itself out of use for DirectRetry, unless the
// caller gave up (then the store is not to blame). It reports whether the
// call should go through the service.
func (d *Direct) failed(ctx context.Context, op, key string, err error) bool {
	if ctx.Err() != nil || errors.Is(err, blob.ErrNotFound) {
		return false
	}
	d.mu.Lock()
	wasOn := !d.now().Before(d.offUntil)
	d.offUntil = d.now().Add(DirectRetry)
	d.mu.Unlock()
	if wasOn {
		d.log.Warn("object store out of reach: objects go through the service", "op", op, "key", key, "retry", DirectRetry, "err", err)
	}
	return true
}

func (d *Direct) Put(ctx context.Context, key string, data []byte) error {
	if d.useDirect() {
		err := d.direct.Put(ctx, key, data)
		if err == nil || !d.failed(ctx, "put", key, err) {
			return err
		}
	}
	d.mu.Lock()
	d.viaPuts = true
	d.mu.Unlock()
	return d.via.Put(ctx, key, data)
}

func (d *Direct) Get(ctx context.Context, key string, off, length int64) ([]byte, error) {
	if d.useDirect() {
		b, err := d.direct.Get(ctx, key, off, length)
		if err == nil || !d.failed(ctx, "get", key, err) {
			return b, err
		}
	}
	return d.via.Get(ctx, key, off, length)
}

func (d *Direct) Delete(ctx context.Context, key string) error {
	if d.useDirect() {
		err := d.direct.Delete(ctx, key)
		if err == nil || !d.failed(ctx, "delete", key, err) {
			return err
		}
	}
	return d.via.Delete(ctx, key)
}

func (d *Direct) List(ctx context.Context, prefix string, fn func(blob.Object) error) error {
	if d.useDirect() {
		called := false
		err := d.direct.List(ctx, prefix, func(o blob.Object) error {
			called = true
			return fn(o)
		})
		// A listing that got under way cannot start again elsewhere
		// without repeating objects to fn.
		if err == nil || called || !d.failed(ctx, "list", prefix, err) {
			return err
		}
	}
	return d.via.List(ctx, prefix, fn)
}

// Sync makes durable what was Put either way.
func (d *Direct) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	viaPuts := d.viaPuts
	d.viaPuts = false
	d.mu.Unlock()
	err := blob.Sync(ctx, d.direct)
	if viaPuts {
		if verr := blob.Sync(ctx, d.via); verr != nil {
			d.mu.Lock()
			d.viaPuts = true
			d.mu.Unlock()
			err = errors.Join(err, verr)
		}
	}
	return err
}
