package pgkv

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/ferryfs/ferry/internal/kv"
)

// lockClass is the high half of the store's advisory lock key ("FeRy");
// the low half is the table's oid, so that two stores in two schemas of
// one database lock apart.
const lockClass = 0x46655279

// ErrHeld is the kind of the error Lock returns while another session
// holds the store. The error is a *HeldError.
var ErrHeld = errors.New("pgkv: store is held by another process")

// HeldError says who holds the store.
type HeldError struct {
	Where  string
	Holder string // the holder's application_name, "" if unknown
}

func (e *HeldError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("pgkv: %s is held by another session", e.Where)
	}
	return fmt.Sprintf("pgkv: %s is held by %s", e.Where, e.Holder)
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Lock takes the store's session advisory lock on a connection of its
// own, without waiting: while it is held, a Lock by any other process
// fails with a *HeldError naming the holder (its application_name,
// "ferry pid N on HOST"). release drops it; so does the end of the
// connection, including a crash of the process. If the connection breaks
// while the process lives the lock is lost silently: the lock keeps two
// processes from starting on one store, it is not a lease.
func (s *Store) Lock(ctx context.Context) (release func() error, err error) {
	if !s.gate.Enter() {
		return nil, kv.ErrClosed
	}
	defer s.gate.Leave()
	c, err := pgx.ConnectConfig(ctx, s.cfg.ConnConfig)
	if err != nil {
		return nil, s.errorf("lock", err)
	}
	var key int64
	var ok bool
	err = c.QueryRow(ctx, "SELECT $1::int8 << 32 | to_regclass($2)::oid::int8", lockClass, Table).Scan(&key)
	if err == nil {
		err = c.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok)
	}
	if err != nil {
		c.Close(context.Background())
		return nil, s.errorf("lock", err)
	}
	if !ok {
		var holder string
		// Best effort: pg_locks splits a bigint key into classid and objid.
		_ = c.QueryRow(ctx, `SELECT coalesce(a.application_name, '') FROM pg_locks l
			JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
			AND l.classid::int8 = $1::int8 >> 32 AND l.objid::int8 = $1::int8 & 4294967295 LIMIT 1`, key).Scan(&holder)
		c.Close(context.Background())
		return nil, &HeldError{Where: s.where, Holder: holder}
	}
	s.lockMu.Lock()
	s.lockConn = c
	s.lockMu.Unlock()
	s.cache.enable(true)
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			s.cache.enable(false)
			s.lockMu.Lock()
			s.lockConn = nil
			s.lockMu.Unlock()
			err = c.Close(context.Background())
		})
		return err
	}, nil
}

// checkLock pings the lock's connection; once it is found broken the lock
// may be another process's, and the cache, which relies on it, goes off.
func (s *Store) checkLock() {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if s.lockConn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), parkAge)
	defer cancel()
	if err := s.lockConn.Ping(ctx); err != nil {
		s.cache.enable(false)
		s.log.Error("lost the connection that holds the store's lock; another process may take it", "where", s.where, "err", firstLine(err))
		s.lockConn.Close(context.Background())
		s.lockConn = nil
	}
}
