package etcdkv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/ferryfs/ferry/internal/kv"
)

// Options configures Open. The zero value is usable; settings given in the
// URL's query string take precedence over these.
type Options struct {
	// DialTimeout bounds Open's first exchange with the cluster; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// RequestTimeout bounds every request to the cluster (a read, a
	// page of a scan, a commit); 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxTxnOps and MaxRequestBytes are the cluster's limits (etcd's
	// --max-txn-ops and --max-request-bytes); 0 means etcd's defaults.
	// An Update over them fails with ErrTooLarge before anything is sent.
	MaxTxnOps       int
	MaxRequestBytes int
	// MaxRetries is how many times a conflicting Update is retried before
	// it fails with kv.ErrConflict; 0 means DefaultMaxRetries.
	MaxRetries int
	// Logger receives the store's own messages; nil discards them.
	Logger *slog.Logger
	// DialOptions are added to the gRPC client's, e.g. interceptors that
	// count or time requests.
	DialOptions []grpc.DialOption
}

// grpcOverhead is what etcd allows on top of --max-request-bytes at the
// gRPC layer; the client's send limit is raised by as much.
const grpcOverhead = 512 * 1024

// Store is a kv.Store on an etcd v3 cluster, under one key prefix.
type Store struct {
	cli    *clientv3.Client
	target Target
	opts   Options
	log    *slog.Logger
	gate   *kv.Gate

	data     string // prefix of every key of the store
	dataEnd  string // kv.PrefixEnd(data)
	epochKey string // bumped by every commit that deletes; see doc.go
	markers  *markers
}

var _ kv.Store = (*Store)(nil)

// Open connects to the cluster named by rawURL and checks that it answers
// within the dial timeout.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	t, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	opts = resolve(t, opts)
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:          t.Endpoints,
		DialTimeout:        opts.DialTimeout,
		DialKeepAliveTime:  opts.RequestTimeout,
		MaxCallSendMsgSize: opts.MaxRequestBytes + grpcOverhead,
		Logger:             zap.NewNop(),
		Context:            context.WithoutCancel(ctx),
		DialOptions:        opts.DialOptions,
	})
	if err != nil {
		return nil, fmt.Errorf("etcdkv: open %s: %w", t, err)
	}
	ns := t.Prefix + "/:"
	mk, err := newMarkers(ns)
	if err != nil {
		_ = cli.Close()
		return nil, err
	}
	s := &Store{
		cli:      cli,
		target:   t,
		opts:     opts,
		log:      opts.Logger,
		gate:     kv.NewGate(),
		data:     ns + "d",
		dataEnd:  ns + "e",
		epochKey: ns + "m/delete-epoch",
		markers:  mk,
	}
	pctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	if _, err := cli.Get(pctx, s.epochKey); err != nil {
		_ = cli.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("etcdkv: open %s: %w", t, ctx.Err())
		}
		if errors.Is(err, context.DeadlineExceeded) || pctx.Err() != nil {
			return nil, fmt.Errorf("etcdkv: open %s: %w: no answer within %v", t, ErrUnreachable, opts.DialTimeout)
		}
		return nil, fmt.Errorf("etcdkv: open %s: %w", t, err)
	}
	s.log.Debug("etcd store open", "url", t.String())
	return s, nil
}

// resolve fills opts from the URL's settings and the defaults.
func resolve(t Target, o Options) Options {
	pick := func(url, opt, def int) int {
		if url > 0 {
			return url
		}
		if opt > 0 {
			return opt
		}
		return def
	}
	pickD := func(url, opt, def time.Duration) time.Duration {
		return time.Duration(pick(int(url), int(opt), int(def)))
	}
	o.DialTimeout = pickD(t.DialTimeout, o.DialTimeout, DefaultDialTimeout)
	o.RequestTimeout = pickD(t.RequestTimeout, o.RequestTimeout, DefaultRequestTimeout)
	o.MaxTxnOps = pick(t.MaxTxnOps, o.MaxTxnOps, DefaultMaxTxnOps)
	o.MaxRequestBytes = pick(t.MaxRequestBytes, o.MaxRequestBytes, DefaultMaxRequestBytes)
	o.MaxRetries = pick(0, o.MaxRetries, DefaultMaxRetries)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Target returns what the store's URL names.
func (s *Store) Target() Target { return s.target }

// enter starts an operation: the caller's context must be live and the
// store open.
func (s *Store) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.gate.Enter() {
		return kv.ErrClosed
	}
	return nil
}

// Get implements kv.Store with one linearizable read.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.gate.Leave()
	r := &snapshot{s: s, ctx: ctx}
	kvp, err := r.get(s.data+string(key), "get")
	if err != nil {
		return nil, err
	}
	if kvp == nil {
		return nil, kv.ErrNotFound
	}
	return valueOf(kvp.Value), nil
}

// View implements kv.Store: every read of fn is made at the revision of
// its first one.
func (s *Store) View(ctx context.Context, fn func(kv.Reader) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.gate.Leave()
	return fn(&view{snap: snapshot{s: s, ctx: ctx}})
}

// Update implements kv.Store: fn runs on a snapshot, and its writes commit
// in one etcd transaction whose comparisons fail if anything fn read has
// changed since (see doc.go). A conflict, or a commit the cluster refused
// without applying it (no leader), runs fn again after a random backoff, up
// to MaxRetries times.
func (s *Store) Update(ctx context.Context, fn func(kv.Txn) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.gate.Leave()
	backoff := time.Millisecond
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		tx := newTxn(s, ctx)
		err := fn(tx)
		if err == nil {
			err = tx.err
		}
		if err != nil {
			// A read revision compacted away is a conflict with the
			// compaction: a new attempt reads at a newer one.
			if !errors.Is(err, ErrCompacted) || attempt == s.opts.MaxRetries {
				return err
			}
			backoff = s.pause(ctx, backoff)
			continue
		}
		ok, err := tx.commit()
		if ok || err != nil && !errors.Is(err, errNotApplied) {
			return err
		}
		if attempt == s.opts.MaxRetries {
			if err != nil {
				return err
			}
			s.log.Warn("etcd transaction conflicts outlasted the retries", "retries", attempt)
			return fmt.Errorf("etcdkv: commit: %w after %d retries", kv.ErrConflict, attempt)
		}
		if err != nil {
			s.log.Debug("etcd commit refused; retrying", "err", err)
		} else {
			s.log.Debug("etcd transaction conflict; retrying", "attempt", attempt+1)
		}
		backoff = s.pause(ctx, backoff)
	}
}

// pause sleeps for a random time up to backoff (or until ctx ends) and
// returns the next backoff.
func (s *Store) pause(ctx context.Context, backoff time.Duration) time.Duration {
	t := time.NewTimer(time.Duration(rand.Int64N(int64(backoff))) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return min(2*backoff, 100*time.Millisecond)
}

// Sync implements kv.Store. etcd acknowledges a commit only once a quorum
// of members has written it to their logs and synced them, so every
// committed Update is already durable: Sync only checks the store is open.
func (s *Store) Sync(ctx context.Context) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	s.gate.Leave()
	return nil
}

// Close waits for running operations and closes the connections. A second
// Close returns nil. Close must not be called from inside View or Update.
func (s *Store) Close() error {
	if !s.gate.Close() {
		return nil
	}
	if err := s.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("etcdkv: close %s: %w", s.target, err)
	}
	return nil
}

// valueOf returns a value the caller owns; an empty value is non-nil.
func valueOf(v []byte) []byte {
	return append([]byte{}, v...)
}
