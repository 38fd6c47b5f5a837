package localblob

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/ferryfs/ferry/internal/blob"
)

// tmpPrefix starts the name of every temporary file. Keys may not have a
// component with this prefix, so no temporary file is ever taken for an
// object. The rest of the name is the Store's token, a dash and a sequence
// number.
const tmpPrefix = ".ferrytmp-"

// createTemp creates a new temporary file in the directory of keys dirKey,
// creating that directory and its parents if needed. It returns the
// directories that gained an entry by creating others.
func (s *Store) createTemp(dirKey string) (f *os.File, created []string, err error) {
	for attempt := 0; ; attempt++ {
		name := tmpPrefix + s.token + "-" + strconv.FormatUint(s.seq.Add(1), 10)
		f, err = os.OpenFile(s.path(path.Join(dirKey, name)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		if err == nil || attempt > 0 || !errors.Is(err, fs.ErrNotExist) {
			return f, created, err
		}
		if created, err = s.mkdirs(dirKey); err != nil {
			return nil, nil, err
		}
	}
}

// mkdirs creates the directory of keys dirKey and any missing parents. It
// returns the parents of the directories it created: those gained entries.
// Concurrent calls for the same directory are fine.
func (s *Store) mkdirs(dirKey string) ([]string, error) {
	var parents []string
	for i := 0; i <= len(dirKey); i++ {
		if i < len(dirKey) && dirKey[i] != '/' {
			continue
		}
		sub := dirKey[:i]
		err := os.Mkdir(s.path(sub), dirMode)
		switch {
		case err == nil:
			parents = append(parents, keyDir(sub))
		case !errors.Is(err, fs.ErrExist):
			return parents, err
		}
	}
	return parents, nil
}

// Clean removes the temporary files that other Stores left in the
// directory, normally after a crash, and returns how many it removed. It
// must not run while another process uses the directory; this Store's own
// temporary files (Puts in progress) are left alone.
func (s *Store) Clean(ctx context.Context) (int, error) {
	n, err := s.clean(ctx, "")
	if err != nil {
		return n, &blob.OpError{Op: "clean", Err: err}
	}
	if n > 0 {
		s.log.Info("localblob: removed temporary files left by an earlier run", "dir", s.dir, "count", n)
	}
	return n, nil
}

func (s *Store) clean(ctx context.Context, dirKey string) (int, error) {
	entries, err := os.ReadDir(s.path(dirKey))
	if err != nil {
		if isNotExist(err) {
			return 0, nil
		}
		return 0, err
	}
	n := 0
	mine := tmpPrefix + s.token + "-"
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		name := e.Name()
		switch {
		case e.IsDir() && !strings.HasPrefix(name, tmpPrefix):
			m, err := s.clean(ctx, path.Join(dirKey, name))
			n += m
			if err != nil {
				return n, err
			}
		case e.Type().IsRegular() && strings.HasPrefix(name, tmpPrefix) && !strings.HasPrefix(name, mine):
			err := os.Remove(s.path(path.Join(dirKey, name)))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, err
			}
			if err == nil {
				n++
			}
		}
	}
	return n, nil
}
