package lease

import (
	"fmt"
	"time"
)

// SessionID names a client session. Zero is not a session: it stands for
// the service itself where a session is expected (see Table.Recall).
type SessionID uint64

// RecallID names a recall. Ids are handed out in increasing order from 1.
type RecallID uint64

// Config sets the two durations of the lease protocol.
type Config struct {
	Period        time.Duration // a session not renewed for this long expires
	RecallTimeout time.Duration // a target that does not ack within this expires
}

// Stats counts what a Table holds.
type Stats struct {
	Sessions       int // live sessions
	Leases         int // (session, inode) pairs
	Inodes         int // inodes with at least one holder
	PendingRecalls int // recalls still waiting for a target
}

// Table is the lease table. It is not safe for concurrent use: the caller
// serializes all calls (see the package documentation).
type Table struct {
	cfg      Config
	sessions map[SessionID]*session
	inodes   inodeMap
	leases   int
	recalls  map[RecallID]*recall
	delegs   map[uint64]*deleg // delegated directories (deleg.go)
	last     RecallID          // the last id handed out
	timers   timers
	closed   []RecallID // completed by Close, reported by the next Tick
	now      time.Time  // the last "now" the table was given
	counts   Counts     // counts.go
}

type session struct {
	id      SessionID
	inos    set[uint64]           // inodes the session holds a lease on
	recalls map[RecallID]struct{} // pending recalls waiting on it; nil when none
	delegs  map[uint64]struct{}   // directories delegated to it; nil when none
	expiry  timer
}

// New returns an empty table. It panics if cfg.Period or
// cfg.RecallTimeout is not positive: the caller checks its configuration
// before it builds a table.
func New(cfg Config) *Table {
	if cfg.Period <= 0 || cfg.RecallTimeout <= 0 {
		panic(fmt.Sprintf("lease: Period %v and RecallTimeout %v must be positive", cfg.Period, cfg.RecallTimeout))
	}
	return &Table{
		cfg:      cfg,
		sessions: make(map[SessionID]*session),
		recalls:  make(map[RecallID]*recall),
	}
}

// Open starts session s, or renews it if it is alive already (a client
// that reconnects keeps its leases and the recalls waiting on it). A
// session opened again after it expired or closed starts with no leases.
// Open(0, now) does nothing.
func (t *Table) Open(s SessionID, now time.Time) {
	t.now = now
	if s == 0 {
		return
	}
	if sess := t.sessions[s]; sess != nil {
		t.renew(sess, now)
		return
	}
	t.counts.Opened++
	sess := &session{id: s}
	sess.expiry = timer{at: now.Add(t.cfg.Period), idx: -1, s: sess}
	t.sessions[s] = sess
	t.timers.add(&sess.expiry)
}

// Renew keeps s alive until now+Period. It returns false, and does
// nothing, if s is not a live session. A session whose period lapsed is
// alive until a Tick expires it, so Renew revives it if it comes first.
func (t *Table) Renew(s SessionID, now time.Time) bool {
	t.now = now
	sess := t.sessions[s]
	if sess == nil {
		return false
	}
	t.renew(sess, now)
	return true
}

func (t *Table) renew(sess *session, now time.Time) {
	sess.expiry.at = now.Add(t.cfg.Period)
	t.timers.fix(&sess.expiry)
}

// Close drops session s and its leases, as a clean disconnect does.
// Pending recalls stop waiting on s; those it completes are reported by the
// next Tick. Closing an unknown session does nothing.
func (t *Table) Close(s SessionID) {
	if sess := t.sessions[s]; sess != nil {
		t.closed = t.expire(sess, t.closed)
	}
}

// Alive reports whether s is a live session: opened, and neither closed
// nor expired by Tick.
func (t *Table) Alive(s SessionID) bool {
	return t.sessions[s] != nil
}

// Stats returns the table's counts.
func (t *Table) Stats() Stats {
	return Stats{
		Sessions:       len(t.sessions),
		Leases:         t.leases,
		Inodes:         t.inodes.len(),
		PendingRecalls: len(t.recalls),
	}
}

// expire drops sess with its leases and takes it out of the recalls
// waiting on it. It appends the recalls that completed to done.
func (t *Table) expire(sess *session, done []RecallID) []RecallID {
	for ino := range sess.inos.m {
		t.inodes.remove(ino, sess.id)
	}
	t.leases -= sess.inos.len()
	for dir := range sess.delegs {
		delete(t.delegs, dir)
	}
	delete(t.sessions, sess.id)
	t.timers.remove(&sess.expiry)
	for r := range sess.recalls {
		if t.unwait(t.recalls[r], sess.id) {
			done = append(done, r)
		}
	}
	return done
}
