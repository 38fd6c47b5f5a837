package localblob

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"github.com/ferryfs/ferry/internal/blob"
)

// pending is what the next Sync must make durable.
type pending struct {
	files    []string            // keys of objects put
	dirs     map[string]struct{} // directories of keys that gained entries
	overflow bool                // too many to track: syncfs instead
}

func (p *pending) size() int { return len(p.files) + len(p.dirs) }

func (p *pending) addDir(dirKey string) {
	if p.dirs == nil {
		p.dirs = map[string]struct{}{}
	}
	p.dirs[dirKey] = struct{}{}
}

// noteput records a Put of key into dirKey, whose creation added entries to
// the directories created.
func (s *Store) noteput(key, dirKey string, created []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pend.overflow {
		return
	}
	s.pend.files = append(s.pend.files, key)
	s.pend.addDir(dirKey)
	for _, d := range created {
		s.pend.addDir(d)
	}
	s.checkOverflow()
}

// checkOverflow drops the pending names once there are too many. s.mu held.
func (s *Store) checkOverflow() {
	if s.pend.size() > s.maxPending {
		s.log.Debug("localblob: too many unsynced objects, next Sync uses syncfs", "dir", s.dir, "limit", s.maxPending)
		s.pend = pending{overflow: true}
	}
}

// Sync implements blob.Syncer. It returns once every object whose Put
// returned before Sync was called is durable.
func (s *Store) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &blob.OpError{Op: "sync", Err: err}
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return &blob.OpError{Op: "sync", Err: fs.ErrClosed}
	}
	if s.failed != nil {
		failed := s.failed
		s.mu.Unlock()
		return &blob.OpError{Op: "sync", Err: fmt.Errorf("an earlier sync failed, durability is lost: %w", failed)}
	}
	p := s.pend
	s.pend = pending{}
	s.mu.Unlock()

	if p.overflow {
		if err := syncFS(s.root); err != nil {
			return s.fail(&blob.OpError{Op: "sync", Err: err})
		}
		return nil
	}
	// Files first, then the directories naming them: both must be done
	// before Sync returns, and files are where the work is.
	files := p.files
	dirs := make([]string, 0, len(p.dirs))
	for d := range p.dirs {
		dirs = append(dirs, d)
	}
	var retry pending
	err := s.fsyncAll(ctx, files, func(k string) { retry.files = append(retry.files, k) })
	if err == nil {
		err = s.fsyncAll(ctx, dirs, retry.addDir)
	} else {
		for _, d := range dirs {
			retry.addDir(d)
		}
	}
	if retry.size() > 0 {
		s.requeue(retry)
	}
	return err
}

// fsyncAll fsyncs the files or directories of keys with bounded
// parallelism. Keys it did not make durable for a reason that loses no
// data (a canceled ctx, a failed open) go to retry. A failed fsync is
// recorded as sticky and returned in preference to other errors.
func (s *Store) fsyncAll(ctx context.Context, keys []string, retry func(string)) error {
	if len(keys) == 0 {
		return nil
	}
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex // guards first, sticky and calls to retry
		first  error
		sticky bool
	)
	for range min(s.parallel, len(keys)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(keys); i = int(next.Add(1)) - 1 {
				key := keys[i]
				err := ctx.Err()
				fsyncFailed := false
				if err == nil {
					fsyncFailed, err = s.fsyncKey(key)
				}
				if err == nil {
					continue
				}
				mu.Lock()
				switch {
				case fsyncFailed && !sticky:
					sticky, first = true, &blob.OpError{Op: "sync", Key: key, Err: err}
				case !fsyncFailed:
					retry(key)
					if first == nil {
						first = &blob.OpError{Op: "sync", Key: key, Err: err}
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if sticky {
		return s.fail(first)
	}
	return first
}

// fsyncKey fsyncs the file or directory of key; fsyncFailed reports
// whether an error came from fsync itself. A file deleted since its Put
// needs nothing.
func (s *Store) fsyncKey(key string) (fsyncFailed bool, err error) {
	if key == "" {
		err = s.root.Sync()
		return err != nil, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		if isNotExist(err) {
			return false, nil
		}
		return false, err
	}
	defer f.Close()
	err = f.Sync()
	return err != nil, err
}

// fail records err as the sticky sync failure and returns it.
func (s *Store) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		s.failed = err
		s.log.Error("localblob: fsync failed; objects put since the previous sync may be lost", "dir", s.dir, "err", err)
	}
	return err
}

// requeue puts names a Sync could not handle back on the pending list.
func (s *Store) requeue(r pending) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pend.overflow {
		return
	}
	s.pend.files = append(s.pend.files, r.files...)
	for d := range r.dirs {
		s.pend.addDir(d)
	}
	s.checkOverflow()
}

// fsyncPath fsyncs the file or directory at path.
func fsyncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
