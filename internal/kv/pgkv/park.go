package pgkv

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// A View ends with its READ ONLY transaction still open: instead of
// paying a round trip for its COMMIT, the store keeps the connection out
// of the pool ("parked"), and the next transaction to take it sends
// ROLLBACK in the batch of its own first statement. A read-only snapshot
// has nothing to commit, so ending it late changes nothing but the time
// it holds back vacuum's horizon, which parkAge bounds.

// parkAge is how long a View may stay open on a parked connection before
// the janitor ends it.
const parkAge = time.Second

type parked struct {
	c     *pgxpool.Conn
	since time.Time
}

// park keeps c for the next transaction; it returns false if the store
// keeps enough parked connections already.
func (s *Store) park(p parked) bool {
	select {
	case s.parked <- p:
		return true
	default:
		return false
	}
}

// unpark returns a parked connection whose View is young enough to end
// in the next batch; older ones it ends and returns to the pool.
func (s *Store) unpark() (parked, bool) {
	for {
		select {
		case p := <-s.parked:
			if time.Since(p.since) < parkAge {
				return p, true
			}
			s.endParked(p)
		default:
			return parked{}, false
		}
	}
}

// endParked rolls back a parked connection's View and returns it to the
// pool (which drops it if that failed).
func (s *Store) endParked(p parked) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := p.c.Exec(ctx, "ROLLBACK"); err != nil {
		s.log.Debug("rollback of a parked view failed", "err", firstLine(err))
	}
	p.c.Release()
}

// janitor ends Views parked for longer than parkAge, until stop closes.
func (s *Store) janitor(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(parkAge)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		s.checkLock()
		for range len(s.parked) {
			select {
			case p := <-s.parked:
				if time.Since(p.since) < parkAge {
					s.park(p)
					continue
				}
				s.endParked(p)
			default:
			}
		}
	}
}

// unparkAll returns every parked connection to the pool, which closes
// those inside a transaction.
func (s *Store) unparkAll() {
	for {
		select {
		case p := <-s.parked:
			p.c.Release()
		default:
			return
		}
	}
}
