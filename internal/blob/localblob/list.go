package localblob

import (
	"context"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/ferryfs/ferry/internal/blob"
)

// List implements blob.Store. It walks only the directory the prefix
// points into, and visits every directory in ascending key order: a
// subdirectory "a" sorts as "a/", after "a-b" and before "a0". Files that
// cannot be objects (temporary files, names that are not valid key
// components, symlinks) are skipped.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Object) error) error {
	if err := ctx.Err(); err != nil {
		return &blob.OpError{Op: "list", Key: prefix, Err: err}
	}
	dirKey, namePrefix := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dirKey, namePrefix = prefix[:i], prefix[i+1:]
		if s.check(ctx, "list", dirKey) != nil {
			return nil // no valid key lies under an invalid directory
		}
	}
	return s.walk(ctx, prefix, dirKey, namePrefix, fn)
}

type listEntry struct {
	sortName string // the name, with "/" appended for directories
	entry    fs.DirEntry
}

// walk lists the objects in the directory of keys dirKey whose names start
// with namePrefix, recursing into subdirectories.
func (s *Store) walk(ctx context.Context, prefix, dirKey, namePrefix string, fn func(blob.Object) error) error {
	dirents, err := os.ReadDir(s.path(dirKey))
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return &blob.OpError{Op: "list", Key: prefix, Err: err}
	}
	entries := make([]listEntry, 0, len(dirents))
	for _, e := range dirents {
		name := e.Name()
		if !strings.HasPrefix(name, namePrefix) || !validComponent(name) {
			continue
		}
		switch {
		case e.IsDir():
			entries = append(entries, listEntry{name + "/", e})
		case e.Type().IsRegular():
			entries = append(entries, listEntry{name, e})
		}
	}
	slices.SortFunc(entries, func(a, b listEntry) int { return strings.Compare(a.sortName, b.sortName) })
	for _, le := range entries {
		if err := ctx.Err(); err != nil {
			return &blob.OpError{Op: "list", Key: prefix, Err: err}
		}
		key := path.Join(dirKey, le.entry.Name())
		if le.entry.IsDir() {
			if err := s.walk(ctx, prefix, key, "", fn); err != nil {
				return err
			}
			continue
		}
		if len(key) > blob.MaxKeyLen {
			continue
		}
		fi, err := le.entry.Info()
		if err != nil {
			if isNotExist(err) {
				continue // deleted since ReadDir
			}
			return &blob.OpError{Op: "list", Key: prefix, Err: err}
		}
		if err := fn(blob.Object{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// validComponent reports whether name can be one component of a key.
func validComponent(name string) bool {
	if name == "." || name == ".." || strings.HasPrefix(name, tmpPrefix) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
