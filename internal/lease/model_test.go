package lease

import (
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("lease.seed", 0, "run TestModel with this seed only")

// model is the reference for Table: plain maps, no index, no heap, and
// Tick computes its result as sets rather than by replaying deadlines.
type model struct {
	cfg      Config
	deadline map[SessionID]time.Time       // live sessions
	leases   map[SessionID]map[uint64]bool // by session
	recalls  map[RecallID]*modelRecall     // pending
	last     RecallID
	closed   []RecallID
	now      time.Time
}

type modelRecall struct {
	waiting  map[SessionID]bool
	deadline time.Time
}

func newModel(cfg Config) *model {
	return &model{
		cfg:      cfg,
		deadline: map[SessionID]time.Time{},
		leases:   map[SessionID]map[uint64]bool{},
		recalls:  map[RecallID]*modelRecall{},
	}
}

func (m *model) open(s SessionID, now time.Time) {
	m.now = now
	if s == 0 {
		return
	}
	if _, ok := m.deadline[s]; !ok {
		m.leases[s] = map[uint64]bool{}
	}
	m.deadline[s] = now.Add(m.cfg.Period)
}

func (m *model) renew(s SessionID, now time.Time) bool {
	m.now = now
	if _, ok := m.deadline[s]; !ok {
		return false
	}
	m.deadline[s] = now.Add(m.cfg.Period)
	return true
}

// drop removes the sessions in gone and returns the recalls that
// completed, sorted.
func (m *model) drop(gone map[SessionID]bool) []RecallID {
	var done []RecallID
	for s := range gone {
		delete(m.deadline, s)
		delete(m.leases, s)
	}
	for id, r := range m.recalls {
		for s := range gone {
			delete(r.waiting, s)
		}
		if len(r.waiting) == 0 {
			delete(m.recalls, id)
			done = append(done, id)
		}
	}
	slices.Sort(done)
	return done
}

func (m *model) close(s SessionID) {
	if _, ok := m.deadline[s]; ok {
		m.closed = append(m.closed, m.drop(map[SessionID]bool{s: true})...)
	}
}

func (m *model) grant(s SessionID, ino uint64) {
	if l := m.leases[s]; l != nil {
		l[ino] = true
	}
}

func (m *model) holders(ino uint64) []SessionID {
	var h []SessionID
	for s, l := range m.leases {
		if l[ino] {
			h = append(h, s)
		}
	}
	slices.Sort(h)
	return h
}

func (m *model) recall(inos []uint64, except SessionID, now time.Time) (RecallID, []SessionID) {
	m.now = now
	m.last++
	w := map[SessionID]bool{}
	for s, l := range m.leases {
		for _, ino := range inos {
			if l[ino] && s != except {
				w[s] = true
			}
		}
	}
	if len(w) == 0 {
		return m.last, nil
	}
	m.recalls[m.last] = &modelRecall{waiting: w, deadline: now.Add(m.cfg.RecallTimeout)}
	return m.last, slices.Sorted(maps.Keys(w))
}

func (m *model) ack(s SessionID, id RecallID) []RecallID {
	r := m.recalls[id]
	if r == nil || !r.waiting[s] {
		return nil
	}
	delete(r.waiting, s)
	if len(r.waiting) > 0 {
		return nil
	}
	delete(m.recalls, id)
	return []RecallID{id}
}

func (m *model) tick(now time.Time) ([]SessionID, []RecallID) {
	m.now = now
	gone := map[SessionID]bool{}
	for s, d := range m.deadline {
		if !now.Before(d) {
			gone[s] = true
		}
	}
	for _, r := range m.recalls {
		if !now.Before(r.deadline) {
			maps.Copy(gone, r.waiting)
		}
	}
	done := append(m.closed, m.drop(gone)...)
	m.closed = nil
	slices.Sort(done)
	return slices.Sorted(maps.Keys(gone)), done
}

func (m *model) next() time.Time {
	var next time.Time
	earlier := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, d := range m.deadline {
		earlier(d)
	}
	for _, r := range m.recalls {
		earlier(r.deadline)
	}
	if len(m.closed) > 0 {
		earlier(m.now)
	}
	return next
}

func (m *model) stats() Stats {
	st := Stats{Sessions: len(m.deadline), PendingRecalls: len(m.recalls)}
	inodes := map[uint64]bool{}
	for _, l := range m.leases {
		st.Leases += len(l)
		maps.Copy(inodes, l)
	}
	st.Inodes = len(inodes)
	return st
}

// TestModel runs random operations on a Table and on the model, with
// small id spaces so that sessions share inodes and recalls overlap, and
// whole-second steps so that deadlines fall exactly on Tick times.
func TestModel(t *testing.T) {
	seeds := []uint64{*seedFlag}
	if *seedFlag == 0 {
		seeds = seeds[:0]
		for s := range uint64(200) {
			seeds = append(seeds, s+1)
		}
	}
	for _, seed := range seeds {
		if err := runModel(seed, 400); err != nil {
			t.Fatalf("seed %d (rerun with -lease.seed=%d): %v", seed, seed, err)
		}
	}
}

func runModel(seed uint64, steps int) error {
	const sessions, inodes = 6, 10
	rng := rand.New(rand.NewPCG(seed, seed))
	cfg := Config{Period: 30 * time.Second, RecallTimeout: 5 * time.Second}
	tb, m := New(cfg), newModel(cfg)
	now := epoch
	var log []string
	fail := func(format string, args ...any) error {
		return fmt.Errorf("after\n\t%s\n%s", strings.Join(log, "\n\t"), fmt.Sprintf(format, args...))
	}
	sess := func() SessionID { return SessionID(rng.IntN(sessions + 1)) } // 0 included
	ino := func() uint64 { return uint64(rng.IntN(inodes)) }
	for range steps {
		var op string
		switch k := rng.IntN(100); {
		case k < 10:
			s := sess()
			op = fmt.Sprintf("open %d", s)
			tb.Open(s, now)
			m.open(s, now)
		case k < 20:
			s := sess()
			got, want := tb.Renew(s, now), m.renew(s, now)
			op = fmt.Sprintf("renew %d -> %v", s, got)
			if got != want {
				return fail("%s: want %v", op, want)
			}
		case k < 24:
			s := sess()
			op = fmt.Sprintf("close %d", s)
			tb.Close(s)
			m.close(s)
		case k < 44:
			s, i := sess(), ino()
			op = fmt.Sprintf("grant %d %d", s, i)
			tb.Grant(s, i)
			m.grant(s, i)
		case k < 50:
			s, i := sess(), ino()
			op = fmt.Sprintf("drop %d %d", s, i)
			tb.Drop(s, i)
			if l := m.leases[s]; l != nil {
				delete(l, i)
			}
		case k < 62:
			inos := make([]uint64, 1+rng.IntN(3))
			for j := range inos {
				inos[j] = ino()
			}
			s := sess()
			id, targets := tb.Recall(inos, s, now)
			wid, wtargets := m.recall(inos, s, now)
			op = fmt.Sprintf("recall %v except %d -> %d %v", inos, s, id, targets)
			if id != wid || !slices.Equal(targets, wtargets) {
				return fail("%s: want %d %v", op, wid, wtargets)
			}
		case k < 82:
			// Mostly acks of pending pairs, sometimes anything.
			s, id := sess(), RecallID(rng.IntN(int(m.last)+2))
			if ids := slices.Sorted(maps.Keys(m.recalls)); len(ids) > 0 && rng.IntN(4) > 0 {
				id = ids[rng.IntN(len(ids))]
				w := slices.Sorted(maps.Keys(m.recalls[id].waiting))
				s = w[rng.IntN(len(w))]
			}
			got, want := tb.Ack(s, id), m.ack(s, id)
			op = fmt.Sprintf("ack %d %d -> %v", s, id, got)
			if !slices.Equal(got, want) {
				return fail("%s: want %v", op, want)
			}
		default:
			now = now.Add(time.Duration(rng.IntN(12)) * time.Second)
			expired, done := tb.Tick(now)
			wexpired, wdone := m.tick(now)
			op = fmt.Sprintf("tick %v -> %v %v", now.Sub(epoch), expired, done)
			if !slices.Equal(expired, wexpired) || !slices.Equal(done, wdone) {
				return fail("%s: want %v %v", op, wexpired, wdone)
			}
		}
		log = append(log, op)
		if err := compare(tb, m, sessions, inodes); err != nil {
			return fail("%v", err)
		}
	}
	return nil
}

// compare checks every query of tb against m.
func compare(tb *Table, m *model, sessions, inodes int) error {
	if got, want := tb.Stats(), m.stats(); got != want {
		return fmt.Errorf("Stats() = %+v, want %+v", got, want)
	}
	if got, want := tb.Next(), m.next(); !got.Equal(want) {
		return fmt.Errorf("Next() = %v, want %v", got, want)
	}
	for s := range SessionID(sessions + 1) {
		_, alive := m.deadline[s]
		if got := tb.Alive(s); got != alive {
			return fmt.Errorf("Alive(%d) = %v, want %v", s, got, alive)
		}
		for i := range uint64(inodes) {
			if got, want := tb.Holds(s, i), m.leases[s][i]; got != want {
				return fmt.Errorf("Holds(%d, %d) = %v, want %v", s, i, got, want)
			}
		}
	}
	for i := range uint64(inodes) {
		if got, want := tb.Holders(i), m.holders(i); !slices.Equal(got, want) {
			return fmt.Errorf("Holders(%d) = %v, want %v", i, got, want)
		}
	}
	for id := range m.last + 2 {
		if got, want := tb.Done(id), id <= m.last && m.recalls[id] == nil; got != want {
			return fmt.Errorf("Done(%d) = %v, want %v", id, got, want)
		}
	}
	return nil
}
