package pgkv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ferryfs/ferry/internal/kv"
)

// Table is the name of the store's table.
const Table = "ferry_kv"

// Defaults of Options.
const (
	DefaultMaxConns       = 8
	DefaultConnectTimeout = 10 * time.Second
)

// Options configure Open. The zero value is usable.
type Options struct {
	// MaxConns bounds the pool; 0 means DefaultMaxConns.
	MaxConns int32
	// ConnectTimeout bounds one connection attempt when the URL sets no
	// connect_timeout; 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Logger receives retries and lock events; nil discards them.
	Logger *slog.Logger
}

// Store is a kv.Store on a PostgreSQL table.
type Store struct {
	pool  *pgxpool.Pool
	cfg   *pgxpool.Config
	where string // host:port/database, for messages
	gate  *kv.Gate
	log   *slog.Logger
	// flush: Sync writes a synchronous WAL record (commits are async).
	flush bool
	// commits counts committed writing Updates; synced is the count known
	// durable. syncCalls counts Syncs since the last commit, and eager
	// says commits flush the WAL themselves (durable.go).
	commits, synced atomic.Uint64
	syncCalls       atomic.Uint64
	eager           atomic.Bool
	stats           Stats
	// parked holds connections with a View still open (park.go); the
	// janitor ends old ones until stopJanitor closes.
	parked      chan parked
	stopJanitor chan struct{}
	janitorDone chan struct{}
	// cache answers Store.Get while the lock is held (cache.go); lockMu
	// guards lockConn, the connection that holds the lock.
	cache    *cache
	lockMu   sync.Mutex
	lockConn *pgx.Conn
}

var _ kv.Store = (*Store)(nil)

// Stats counts what the store sent, for tests and measurements.
type Stats struct {
	RoundTrips atomic.Uint64 // batches and single statements sent
	Retries    atomic.Uint64 // transactions run again after a conflict
}

// Stats returns the store's counters.
func (s *Store) Stats() *Stats { return &s.stats }

// Where returns host:port/database of the store's server.
func (s *Store) Where() string { return s.where }

// Open connects to the database rawURL names (postgres:// or
// postgresql://, in libpq's URL form; a password in it is used, never
// stored) and creates the store's table if it is missing. It fails with
// one line naming the server and the reason; errors.Is tells
// ErrUnreachable, ErrAuth and ErrNoDatabase apart.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("pgkv: bad URL %s: %s", Redact(rawURL), firstLine(err))
	}
	cc := cfg.ConnConfig
	s := &Store{cfg: cfg, where: where(cc), gate: kv.NewGate(), log: opts.Logger, cache: newCache()}
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = opts.ConnectTimeout
		if cc.ConnectTimeout <= 0 {
			cc.ConnectTimeout = DefaultConnectTimeout
		}
	}
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = appName()
	}
	_, userSync := cc.RuntimeParams["synchronous_commit"]
	// Decide on asynchronous commits with one connection, before the pool
	// makes others.
	first, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, s.errorf("connect", err)
	}
	defer first.Close(context.Background())
	if err := s.ensureTable(ctx, first); err != nil {
		return nil, err
	}
	s.flush = !userSync && canFlush(ctx, first)
	if s.flush {
		cc.RuntimeParams["synchronous_commit"] = "off"
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, s.errorf("connect", err)
	}
	s.parked = make(chan parked, max(1, cfg.MaxConns/2))
	s.stopJanitor, s.janitorDone = make(chan struct{}), make(chan struct{})
	go s.janitor(s.stopJanitor, s.janitorDone)
	return s, nil
}

// ensureTable creates the table if it is missing and checks the shape of
// one that exists.
func (s *Store) ensureTable(ctx context.Context, c *pgx.Conn) error {
	var exists bool
	if err := c.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", Table).Scan(&exists); err != nil {
		return s.errorf("open", err)
	}
	if !exists {
		_, err := c.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+Table+" (k bytea PRIMARY KEY, v bytea NOT NULL)")
		if err != nil && !isCode(err, "23505", "42P07") { // lost a race to create it
			return s.errorf("create table "+Table, err)
		}
	}
	rows, err := c.Query(ctx, "SELECT k, v FROM "+Table+" LIMIT 0")
	if err != nil {
		return fmt.Errorf("pgkv: %s: table %s is not a Ferry store: %s", s.where, Table, firstLine(err))
	}
	fields := rows.FieldDescriptions()
	rows.Close()
	const byteaOID = 17
	if len(fields) != 2 || fields[0].DataTypeOID != byteaOID || fields[1].DataTypeOID != byteaOID {
		return fmt.Errorf("pgkv: %s: table %s is not a Ferry store (columns k and v are not bytea)", s.where, Table)
	}
	return rows.Err()
}

// canFlush reports whether Sync can flush the WAL with a transactional
// logical message (PostgreSQL has it; engines that only speak the protocol
// may not, and commit synchronously anyway).
func canFlush(ctx context.Context, c *pgx.Conn) bool {
	_, err := c.Exec(ctx, syncSQL)
	return err == nil
}

// syncSQL commits a WAL record synchronously: the record gives the
// transaction an id and WAL to flush, so its commit waits for the flush,
// which covers every earlier asynchronous commit.
const syncSQL = "BEGIN; SET LOCAL synchronous_commit = on; " +
	"SELECT pg_logical_emit_message(true, 'ferry', 'sync'); COMMIT"

// Get implements kv.Store: one statement outside any transaction.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !s.gate.Enter() {
		return nil, kv.ErrClosed
	}
	defer s.gate.Leave()
	v, ok, ticket := s.cache.get(key)
	if ok {
		return v, nil
	}
	s.stats.RoundTrips.Add(1)
	err := s.pool.QueryRow(ctx, sqlGet, nonNil(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, kv.ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("get", err)
	}
	v = nonNil(v)
	s.cache.put(key, v, ticket)
	return v, nil
}

// Close waits for running operations and closes the pool. Commits not yet
// flushed by Sync are flushed by the server within its wal_writer_delay.
// A second Close returns nil.
func (s *Store) Close() error {
	if !s.gate.Close() {
		return nil
	}
	close(s.stopJanitor)
	<-s.janitorDone
	s.unparkAll()
	s.pool.Close()
	return nil
}

// where describes the server of a connection config: host:port/database.
func where(cc *pgx.ConnConfig) string {
	host := cc.Host
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf("%s/.s.PGSQL.%d/%s", host, cc.Port, cc.Database)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("%s:%d/%s", host, cc.Port, cc.Database)
}

// appName is the application_name of the store's connections, which
// pg_stat_activity shows (and Lock reports to a second process).
func appName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("ferry pid %d on %s", os.Getpid(), host)
}

// Redact returns rawURL without its password, for messages and logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
