package localblob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/ferryfs/ferry/internal/blob"
)

const (
	fileMode = 0o600 // object contents belong to the volume, not to all users
	dirMode  = 0o700

	defaultMaxPending = 1 << 14
	defaultParallel   = 8
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
	// MaxPending bounds the names Sync remembers to fsync; beyond it Sync
	// falls back to syncfs(2). Zero means 16384.
	MaxPending int
	// SyncParallelism bounds the concurrent fsyncs of one Sync. Zero means 8.
	SyncParallelism int
}

// Store is a blob.Store over a local directory. Its methods are safe for
// concurrent use.
type Store struct {
	dir        string
	root       *os.File // dir, open for syncfs and its own fsync
	log        *slog.Logger
	token      string // names this Store's temporary files
	seq        atomic.Uint64
	maxPending int
	parallel   int

	syncMu sync.Mutex // serializes Sync; taken before mu

	mu     sync.Mutex // guards pend, failed, closed
	pend   pending
	failed error // first fsync failure; sticky
	closed bool
}

var (
	_ blob.Store  = (*Store)(nil)
	_ blob.Syncer = (*Store)(nil)
)

// Open opens the store in dir, creating dir if it does not exist.
func Open(dir string, opts Options) (*Store, error) {
	dir = filepath.Clean(dir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return nil, fmt.Errorf("localblob: open %s: %w", dir, err)
		}
		if err := fsyncPath(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("localblob: open %s: %w", dir, err)
		}
	}
	root, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("localblob: open %s: %w", dir, err)
	}
	if fi, err := root.Stat(); err != nil || !fi.IsDir() {
		root.Close()
		if err == nil {
			err = syscall.ENOTDIR
		}
		return nil, fmt.Errorf("localblob: open %s: %w", dir, err)
	}
	var tok [8]byte
	rand.Read(tok[:])
	s := &Store{
		dir:        dir,
		root:       root,
		log:        opts.Logger,
		token:      hex.EncodeToString(tok[:]),
		maxPending: opts.MaxPending,
		parallel:   opts.SyncParallelism,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxPending <= 0 {
		s.maxPending = defaultMaxPending
	}
	if s.parallel <= 0 {
		s.parallel = defaultParallel
	}
	return s, nil
}

// Dir returns the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Close releases the directory handle. Objects put but not synced stay
// where they are, not durable. The Store must not be used afterwards.
func (s *Store) Close() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.root.Close()
}

// path returns the file name of key, or of a directory of keys ("" is dir).
func (s *Store) path(key string) string {
	if key == "" {
		return s.dir
	}
	return filepath.Join(s.dir, filepath.FromSlash(key))
}

// check validates the context and key of an operation.
func (s *Store) check(ctx context.Context, op, key string) error {
	err := ctx.Err()
	if err == nil {
		err = blob.CheckKey(key)
	}
	if err == nil && isTempName(key) {
		err = fmt.Errorf("%w %q: component starts with %q", blob.ErrInvalidKey, key, tmpPrefix)
	}
	if err != nil {
		return &blob.OpError{Op: op, Key: key, Err: err}
	}
	return nil
}

// keyDir returns the directory part of key ("" at the top).
func keyDir(key string) string {
	if d := path.Dir(key); d != "." {
		return d
	}
	return ""
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := s.check(ctx, "put", key); err != nil {
		return err
	}
	dirKey := keyDir(key)
	f, created, err := s.createTemp(dirKey)
	if err != nil {
		return &blob.OpError{Op: "put", Key: key, Err: err}
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && len(data) >= startWritebackMin {
		// Start writing the object to disk now, without waiting, so that
		// the Sync that follows a large write finds little left to do.
		startWriteback(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path(key))
	}
	if err != nil {
		if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			s.log.Warn("localblob: removing temporary file", "file", tmp, "err", rerr)
		}
		return &blob.OpError{Op: "put", Key: key, Err: err}
	}
	s.noteput(key, dirKey, created)
	return nil
}

// Get implements blob.Store. It reads only the requested range.
func (s *Store) Get(ctx context.Context, key string, off, length int64) ([]byte, error) {
	if err := s.check(ctx, "get", key); err != nil {
		return nil, err
	}
	if err := blob.CheckRange(off); err != nil {
		return nil, &blob.OpError{Op: "get", Key: key, Err: err}
	}
	data, err := s.readRange(key, off, length)
	if err != nil {
		return nil, &blob.OpError{Op: "get", Key: key, Err: err}
	}
	return data, nil
}

func (s *Store) readRange(key string, off, length int64) ([]byte, error) {
	f, err := os.Open(s.path(key))
	if err != nil {
		if isNotExist(err) {
			return nil, blob.ErrNotFound
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, blob.ErrNotFound
	}
	size := fi.Size()
	if off >= size {
		return []byte{}, nil
	}
	n := size - off
	if length >= 0 && length < n {
		n = length
	}
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, off)
	if got == len(buf) {
		return buf, nil
	}
	if err == io.EOF {
		err = fmt.Errorf("%s shrank while being read: %w", f.Name(), io.ErrUnexpectedEOF)
	}
	return nil, err
}

// Delete implements blob.Store. It removes only files, never directories.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, "delete", key); err != nil {
		return err
	}
	p := s.path(key)
	err := syscall.Unlink(p)
	if err == nil || isNotExist(err) || errors.Is(err, syscall.EISDIR) {
		return nil
	}
	return &blob.OpError{Op: "delete", Key: key, Err: &fs.PathError{Op: "unlink", Path: p, Err: err}}
}

// isNotExist reports whether err means that a path does not name a file:
// it is missing, or one of its parents is not a directory.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// isTempName reports whether any component of key is a temporary file name.
func isTempName(key string) bool {
	return strings.HasPrefix(key, tmpPrefix) || strings.Contains(key, "/"+tmpPrefix)
}
