package service

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/lease"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/procs"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// Defaults of Options.
const (
	DefaultLeasePeriod   = 10 * time.Second
	DefaultRecallTimeout = 5 * time.Second
)

// Options configure a Service.
type Options struct {
	Objects   blob.Store
	BlockSize int
	Volume    string // the volume's uuid, told to clients
	// Data is the address of the object store that clients may reach
	// themselves (HelloReply.Data); empty: objects only through the
	// service.
	Data string
	// LeasePeriod is how long a session lives without renewal.
	LeasePeriod time.Duration
	// RecallTimeout is how long a change waits for a holder to
	// acknowledge a recall before it expires the holder's session.
	RecallTimeout time.Duration
	// Async acknowledges changes before they are durable: a crash of the
	// service may lose what was acknowledged since the last fsync.
	Async bool
	// Procs, if set, is told when file data moves (package procs).
	Procs  *procs.Governor
	Export Export // what clients may reach and as whom (export.go)
	Now    func() time.Time
	Logger *slog.Logger
}

// Service serves one volume to client sessions.
type Service struct {
	opts Options
	log  *slog.Logger
	meta *meta.FS // set by Attach
	root uint64   // the exported directory (export.go)

	mu       sync.Mutex
	table    *lease.Table
	sessions map[lease.SessionID]*session
	waiters  map[lease.RecallID]chan struct{}
	writers  map[uint64]map[lease.SessionID]struct{} // sessions with a file open for writing
	stamps   stamps                                  // grant.go
	syncs    *groupSync                              // durable.go
	batchMu  sync.Mutex                              // one OpCreateBatch at a time (batch.go)
	closed   bool

	lockWaits lockWaiters // sessions waiting for a change of locks (locks.go)

	// After a restart: sessions recorded before it, which may still
	// cache what they were handed, and the end of the grace period in
	// which they reconnect and nothing changes (grace.go).
	recovering map[lease.SessionID]bool
	holdReads  atomic.Bool // reads wait for the grace period too
	graceDone  chan struct{}
	graceOnce  sync.Once
	graceTimer *time.Timer

	wake chan struct{} // the lease clock's timer needs re-arming
	stop chan struct{}
	done chan struct{}
}

// New returns a service; Attach gives it its metadata service, whose
// Options.OnCommit must be the service's OnCommit.
func New(opts Options) *Service {
	if opts.LeasePeriod <= 0 {
		opts.LeasePeriod = DefaultLeasePeriod
	}
	if opts.RecallTimeout <= 0 {
		opts.RecallTimeout = DefaultRecallTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		opts:      opts,
		log:       opts.Logger,
		table:     lease.New(lease.Config{Period: opts.LeasePeriod, RecallTimeout: opts.RecallTimeout}),
		sessions:  make(map[lease.SessionID]*session),
		waiters:   make(map[lease.RecallID]chan struct{}),
		writers:   make(map[uint64]map[lease.SessionID]struct{}),
		graceDone: make(chan struct{}),
		syncs:     newGroupSync(),
		wake:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	return s
}

// Configure sets what the volume tells clients, once it is open (the
// service must exist first: its OnCommit is given to the volume).
func (s *Service) Configure(objects blob.Store, blockSize int, volume string) {
	s.opts.Objects, s.opts.BlockSize, s.opts.Volume = objects, blockSize, volume
}

// AdvertiseData names the object store clients may reach themselves
// (Options.Data). A subdirectory export never names it: a client with the
// store's credentials could read objects of files outside its export.
func (s *Service) AdvertiseData(url string) {
	if strings.Trim(s.opts.Export.Root, "/") != "" {
		return
	}
	s.opts.Data = url
}

// Attach gives the service its metadata service (opened with
// meta.Options.KeepOrphans), starts the grace period of the sessions it
// recorded before a restart, and starts the lease clock.
func (s *Service) Attach(ctx context.Context, m *meta.FS) error {
	s.meta = m
	if err := s.prepareExport(ctx); err != nil {
		return err
	}
	if err := s.startGrace(ctx); err != nil {
		return err
	}
	go s.clock()
	return nil
}

// Close stops the lease clock and the grace timer and refuses new
// sessions. It neither ends the sessions (their records stay, so that
// their clients resume after the next start) nor closes the metadata
// service; the caller closes the rpc server first, so that no call is
// left waiting for a recall.
func (s *Service) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	if s.meta != nil {
		<-s.done
	}
	s.stopGrace()
}

// session is one client's session.
type session struct {
	id     lease.SessionID
	client string

	mu      sync.Mutex
	peer    string
	push    rpc.Pusher                      // nil while detached
	pending map[lease.RecallID]*wire.Recall // recalls pushed, not yet acked
	opens   map[uint64]int                  // files and directories open, per inode
	replies replyCache
	// resent: calls with lower ids may have run before a restart of the
	// service; their call records answer them (set for recovered
	// sessions only).
	resent  uint64
	pruning bool   // a PruneCalls runs
	pruned  uint64 // call records below this id are gone
	guard   sessGuard
	// delegating: the session's record says it may hold delegations
	// (meta.MarkDelegating).
	delegating bool
	inos       []*inoRange // inode numbers handed to it in this run (deleg.go)
}

// Accept admits a session: it is the service's rpc.Acceptor.
func (s *Service) Accept(_ context.Context, h *wire.Hello, peer string, push rpc.Pusher) (rpc.SessionHandler, *wire.HelloReply, error) {
	if h.MaxVersion < wire.MinVersion || h.MinVersion > wire.Version {
		return nil, nil, fmt.Errorf("%w: client speaks protocol %d-%d, service %d-%d",
			syscall.EPROTO, h.MinVersion, h.MaxVersion, wire.MinVersion, wire.Version)
	}
	version := min(h.MaxVersion, wire.Version)
	push = s.pusher(push)
	now := s.opts.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, nil, fmt.Errorf("%w: service is shutting down", syscall.ESHUTDOWN)
	}
	id := lease.SessionID(h.Session)
	sess, resumed, recovered := s.sessions[id], false, false
	switch {
	case sess != nil && s.table.Alive(id):
		resumed = true
		s.table.Renew(id, now)
	case id != 0 && s.recovering[id]:
		// A session from before a restart: same id (its call records
		// answer its resent calls), no leases (the client starts over).
		// The grace period waits until it said what it holds open
		// (OpReclaimed).
		recovered = true
	default:
		id = s.newSessionID()
	}
	if !resumed {
		sess = &session{id: id, client: h.Client, pending: make(map[lease.RecallID]*wire.Recall), opens: make(map[uint64]int)}
		if recovered {
			sess.resent = h.Next
			sess.guard.lenient = true
		}
		s.sessions[id] = sess
		s.table.Open(id, now)
	}
	s.mu.Unlock()
	s.kick()
	if !resumed && !recovered {
		err := s.meta.OpenSession(context.Background(), uint64(id))
		if err == nil && !s.opts.Async {
			err = s.durable(context.Background())
		}
		if err != nil {
			s.mu.Lock()
			delete(s.sessions, id)
			s.table.Close(id)
			s.mu.Unlock()
			return nil, nil, fmt.Errorf("record session: %w", err)
		}
	}

	sess.mu.Lock()
	sess.peer, sess.push = peer, push
	var again []pushed
	for rid, r := range sess.pending {
		again = append(again, pushed{rid, r})
	}
	sess.mu.Unlock()
	for _, p := range again {
		push.Push(wire.OpRecall, uint64(p.id), p.r)
	}
	s.log.Info("session connected", "session", uint64(id), "client", h.Client, "peer", peer, "resumed", resumed)
	reply := &wire.HelloReply{
		Version: version, Session: uint64(id), Resumed: resumed,
		LeasePeriod: int64(s.opts.LeasePeriod), BlockSize: uint32(s.opts.BlockSize), Volume: s.opts.Volume,
		Data: s.opts.Data,
	}
	return &handler{s: s, sess: sess, push: push}, reply, nil
}

type pushed struct {
	id lease.RecallID
	r  *wire.Recall
}

// newSessionID returns a random, unused, nonzero id: ids of a service
// that restarted do not collide with the ones its clients remember.
func (s *Service) newSessionID() lease.SessionID {
	for {
		var b [8]byte
		rand.Read(b[:])
		id := lease.SessionID(binary.LittleEndian.Uint64(b[:]) >> 1)
		if _, used := s.sessions[id]; id != 0 && !used {
			return id
		}
	}
}

// handler serves one connection of a session.
type handler struct {
	s    *Service
	sess *session
	push rpc.Pusher
}

func (h *handler) Detached(err error) {
	h.sess.mu.Lock()
	if h.sess.push == h.push {
		h.sess.push = nil
	}
	h.sess.mu.Unlock()
	if err != nil {
		h.s.log.Warn("session disconnected", "session", uint64(h.sess.id), "client", h.sess.client, "peer", h.sess.peer, "cause", err)
	} else {
		h.s.log.Info("session disconnected", "session", uint64(h.sess.id), "client", h.sess.client, "peer", h.sess.peer)
	}
}

// end closes a session at once (Bye) or after it expired: its leases go
// and what it had open is released.
func (s *Service) end(sess *session, why string) {
	cause := ""
	if why == "expired" {
		cause = expiryCause(sess)
	}
	sess.mu.Lock()
	opens := sess.opens
	sess.opens = make(map[uint64]int)
	sess.pending = make(map[lease.RecallID]*wire.Recall)
	sess.mu.Unlock()
	ctx := context.Background()
	for ino, n := range opens {
		s.unwrote(sess.id, ino)
		for range n {
			if err := s.meta.Release(ctx, ino); err != nil {
				s.log.Warn("release of an ended session's open file failed", "session", uint64(sess.id), "ino", ino, "cause", err)
			}
		}
	}
	s.dropLocks(sess)
	if err := s.meta.CloseSession(ctx, uint64(sess.id)); err != nil {
		s.log.Warn("removing an ended session's records failed", "session", uint64(sess.id), "cause", err)
	}
	s.logEnded(sess, why, cause, len(opens))
}

// kick re-arms the lease clock.
func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// clock runs the lease table's timers.
func (s *Service) clock() {
	defer close(s.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		s.mu.Lock()
		next := s.table.Next()
		s.mu.Unlock()
		d := time.Hour
		if !next.IsZero() {
			d = max(next.Sub(s.opts.Now()), time.Millisecond)
		}
		t.Reset(d)
		select {
		case <-s.stop:
			return
		case <-s.wake:
			continue
		case <-t.C:
		}
		s.mu.Lock()
		expired, done := s.table.Tick(s.opts.Now())
		var ended []*session
		for _, id := range expired {
			if sess := s.sessions[id]; sess != nil {
				ended = append(ended, sess)
				delete(s.sessions, id)
			}
		}
		s.complete(done)
		s.mu.Unlock()
		for _, sess := range ended {
			s.end(sess, "expired")
		}
	}
}

// complete wakes the waiters of completed recalls; the caller holds mu.
func (s *Service) complete(done []lease.RecallID) {
	for _, id := range done {
		if ch := s.waiters[id]; ch != nil {
			close(ch)
			delete(s.waiters, id)
		}
	}
}

// errReply is the reply payload of a failure.
func errReply(err error) []byte {
	return wire.AppendReply(nil, meta.Errno(err), err.Error(), nil)
}
