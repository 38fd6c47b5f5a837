package standby

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/meta"
)

// DefaultPeriod is the lease period of the active service.
const DefaultPeriod = 5 * time.Second

// ErrFenced is the error of an update made by a service that is no
// longer the volume's active service.
var ErrFenced = errors.New("standby: another service took over the volume")

// Options configure Acquire.
type Options struct {
	// Period is how long the active service's lease lasts without
	// renewal; DefaultPeriod if 0.
	Period time.Duration
	// Addrs are this service's listeners, recorded for status.
	Addrs  []string
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Period <= 0 {
		o.Period = DefaultPeriod
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// margin is the slack between the holder giving up and a standby taking
// over: the holder stops margin before its lease ends, a standby waits
// margin after it.
func margin(period time.Duration) time.Duration { return period / 5 }

// Watch is a standby's view of the active record: it decides when the
// holder is gone. It is a pure state machine fed the time.
type Watch struct {
	Period time.Duration
	seen   bool
	last   meta.Active
	since  time.Time // when last was first seen
}

// Observe feeds one reading of the record (ok: the record exists) taken
// at now, and reports whether a standby may take over from it.
func (w *Watch) Observe(a meta.Active, ok bool, now time.Time) bool {
	if !ok || a.Holder == "" {
		return true // nobody holds the volume
	}
	if !w.seen || !sameRecord(a, w.last) {
		w.seen, w.last, w.since = true, a, now
		return false
	}
	return now.Sub(w.since) >= w.Period+margin(w.Period)
}

func sameRecord(a, b meta.Active) bool {
	return a.Holder == b.Holder && a.Term == b.Term && a.Beat == b.Beat
}

// Lease is this process's hold on the volume as its active service.
type Lease struct {
	store kv.Store
	opts  Options
	me    meta.Active

	lostOnce sync.Once
	lost     chan struct{}
	lostErr  error
	stop     chan struct{}
	done     chan struct{}
}

// Holder returns this lease's holder id and term.
func (l *Lease) Holder() (string, uint64) { return l.me.Holder, l.me.Term }

// NewHolderID returns an id for this process that no other process has.
func NewHolderID() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("ferry pid %d on %s #%s", os.Getpid(), host, hex.EncodeToString(b[:]))
}

// Acquire waits until this process is the active service of the volume in
// store and returns its lease, renewed in the background until Release or
// until it is lost. It returns early only if ctx ends.
func Acquire(ctx context.Context, store kv.Store, opts Options) (*Lease, error) {
	return acquire(ctx, store, opts, true)
}

// acquire takes the volume when Watch says it may. With wait it stands by
// for as long as it takes and rides out failures of the engine; without,
// it fails with the engine's error, or with a *HeldError as soon as the
// holder's beat moves.
func acquire(ctx context.Context, store kv.Store, opts Options, wait bool) (*Lease, error) {
	opts.defaults()
	holder := NewHolderID()
	w := Watch{Period: opts.Period}
	var first meta.Active // the first holder seen
	seen := false
	for {
		var cur meta.Active
		var ok bool
		err := store.View(ctx, func(r kv.Reader) error {
			var err error
			cur, ok, err = meta.ReadActive(r)
			return err
		})
		if wait && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch {
		case err != nil && !wait:
			return nil, err
		case err != nil:
			opts.Logger.Warn("standby: reading the active record failed", "err", err)
		case w.Observe(cur, ok, time.Now()):
			l, err := takeOver(ctx, store, opts, holder, cur, ok)
			switch {
			case err == nil || !errors.Is(err, errMoved) && !wait:
				return l, err
			case wait && ctx.Err() != nil:
				return nil, ctx.Err()
			case !errors.Is(err, errMoved):
				opts.Logger.Warn("standby: taking over failed", "err", err)
			}
		case !seen:
			first, seen = cur, true
			if wait {
				opts.Logger.Info("standing by: another service is active", "holder", cur.Holder, "addrs", cur.Addrs, "term", cur.Term)
			} else {
				opts.Logger.Info("another process held the volume: waiting to see whether it still does", "holder", cur.Holder, "for", opts.Period+margin(opts.Period))
			}
		case !wait && !sameRecord(cur, first):
			return nil, &HeldError{Holder: cur.Holder, Addrs: cur.Addrs}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(opts.Period / 8):
		}
	}
}

// errMoved: the record changed between the look and the takeover.
var errMoved = errors.New("the active record changed")

func takeOver(ctx context.Context, store kv.Store, opts Options, holder string, seen meta.Active, existed bool) (*Lease, error) {
	me := meta.Active{Holder: holder, Addrs: opts.Addrs, Term: seen.Term + 1}
	sent := time.Now()
	err := store.Update(ctx, func(t kv.Txn) error {
		cur, ok, err := meta.ReadActive(t)
		if err != nil {
			return err
		}
		if ok != existed || (ok && !sameRecord(cur, seen)) {
			return errMoved
		}
		return meta.WriteActive(t, me)
	})
	if err != nil {
		return nil, err
	}
	if err := store.Sync(ctx); err != nil {
		return nil, err
	}
	l := &Lease{store: store, opts: opts, me: me, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	opts.Logger.Info("active: this service holds the volume", "term", me.Term, "previous", seen.Holder)
	go l.renew(sent)
	return l, nil
}

// Lost is closed when the lease is lost; Err then says why.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Err returns why the lease was lost, or nil.
func (l *Lease) Err() error {
	select {
	case <-l.lost:
		return l.lostErr
	default:
		return nil
	}
}

func (l *Lease) lose(err error) {
	l.lostOnce.Do(func() {
		l.lostErr = err
		close(l.lost)
	})
}

// renew raises the heartbeat every Period/4, and gives the lease up
// Period minus the margin after the newest successful renewal (or the
// takeover) was sent, at last.
func (l *Lease) renew(last time.Time) {
	defer close(l.done)
	period := l.opts.Period
	giveUp := period - margin(period)
	tick := time.NewTicker(period / 4)
	defer tick.Stop()
	deadline := time.NewTimer(giveUp - time.Since(last))
	defer deadline.Stop()
	var err error
	for {
		select {
		case <-l.stop:
			return
		case <-deadline.C:
			l.lose(fmt.Errorf("standby: lease not renewed for %v: %w", giveUp, err))
			return
		case <-tick.C:
		}
		sent := time.Now()
		// A renewal still running at the give-up time is given up too.
		ctx, cancel := context.WithDeadline(context.Background(), last.Add(giveUp))
		err = l.beat(ctx)
		cancel()
		switch {
		case errors.Is(err, ErrFenced):
			l.lose(err)
			return
		case err == nil:
			last = sent
			deadline.Reset(giveUp - time.Since(last))
		default:
			l.opts.Logger.Warn("active: renewing the lease failed", "err", err)
		}
	}
}

func (l *Lease) beat(ctx context.Context) error {
	return l.store.Update(ctx, func(t kv.Txn) error {
		cur, err := l.check(t)
		if err != nil {
			return err
		}
		cur.Beat++
		return meta.WriteActive(t, cur)
	})
}

// check returns the record if this lease still holds the volume, else
// ErrFenced.
func (l *Lease) check(r kv.Reader) (meta.Active, error) {
	cur, ok, err := meta.ReadActive(r)
	if err != nil {
		return cur, err
	}
	if !ok || cur.Holder != l.me.Holder || cur.Term != l.me.Term {
		return cur, fmt.Errorf("%w (holder %q, term %d)", ErrFenced, cur.Holder, cur.Term)
	}
	return cur, nil
}

// Release stops renewing and, if the lease still holds, lets go of the
// volume so that a standby takes over at once.
func (l *Lease) Release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	l.lose(errors.New("standby: released"))
	err := l.store.Update(ctx, func(t kv.Txn) error {
		cur, err := l.check(t)
		if err != nil {
			return err
		}
		return meta.WriteActive(t, meta.Active{Term: cur.Term, Beat: cur.Beat + 1})
	})
	if errors.Is(err, ErrFenced) {
		return nil // somebody else holds it already
	}
	if err == nil {
		err = l.store.Sync(ctx)
	}
	return err
}

// HeldError says that a live service holds the volume.
type HeldError struct {
	Holder string
	Addrs  []string
}

func (e *HeldError) Error() string { return "held by " + e.Who() }

// Who names the holder and its addresses.
func (e *HeldError) Who() string {
	if len(e.Addrs) > 0 {
		return fmt.Sprintf("%s (serving %s)", e.Holder, strings.Join(e.Addrs, ", "))
	}
	return e.Holder
}

// TryAcquire is Acquire for a process that must not wait behind a live
// service (fsck, gc, an embedded mount): it takes the volume if nobody
// holds it, or once the holder's beat has stood still for a lease period
// and the margin, and fails with a *HeldError as soon as the beat moves.
func TryAcquire(ctx context.Context, store kv.Store, opts Options) (*Lease, error) {
	return acquire(ctx, store, opts, false)
}
