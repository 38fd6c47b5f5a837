package pebblekv

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ferryfs/ferry/internal/kv"
)

// viewReader implements kv.Reader for View on one point-in-time iterator.
// The root iterator serves point reads and the outermost Scan; a Get made
// from inside that Scan's callback uses a lazily made clone, and a nested
// Scan a clone of its own, so no read repositions an iterator that another
// read is still walking. Clones read the same state as root.
type viewReader struct {
	root     *pebble.Iterator
	rootBusy bool             // root is walking a Scan
	getIt    *pebble.Iterator // clone for Gets while rootBusy
}

// Get does a prefix seek: with the default comparer the prefix of a key is
// the whole key, so the seek consults the tables' bloom filters and finds
// nothing but key itself.
func (r *viewReader) Get(key []byte) ([]byte, error) {
	it := r.root
	if r.rootBusy {
		if r.getIt == nil {
			c, err := r.root.Clone(pebble.CloneOptions{IterOptions: &pebble.IterOptions{}})
			if err != nil {
				return nil, fmt.Errorf("pebblekv: get %q: %w", key, err)
			}
			r.getIt = c
		}
		it = r.getIt
	}
	if !it.SeekPrefixGE(key) || !bytes.Equal(it.Key(), key) {
		if err := it.Error(); err != nil {
			return nil, fmt.Errorf("pebblekv: get %q: %w", key, err)
		}
		return nil, kv.ErrNotFound
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return nil, fmt.Errorf("pebblekv: get %q: %w", key, err)
	}
	return bytes.Clone(v), nil
}

func (r *viewReader) Scan(start, end []byte, fn func(k, v []byte) bool) error {
	if end != nil && bytes.Compare(start, end) >= 0 {
		return nil
	}
	start = lowerBound(start)
	if r.rootBusy {
		it, err := r.root.Clone(pebble.CloneOptions{
			IterOptions: &pebble.IterOptions{LowerBound: start, UpperBound: end},
		})
		if err != nil {
			return fmt.Errorf("pebblekv: scan [%q, %q): %w", start, end, err)
		}
		err = walk(it, start, end, fn)
		if cerr := it.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("pebblekv: scan [%q, %q): %w", start, end, cerr)
		}
		return err
	}
	r.rootBusy = true
	r.root.SetBounds(start, end)
	err := walk(r.root, start, end, fn)
	r.root.SetBounds(nil, nil)
	r.rootBusy = false
	return err
}

// lowerBound maps an empty start key to nil, which means the same thing.
// Pebble's invariant checks (on in race builds) index the first byte of a
// non-nil bound and panic on an empty one.
func lowerBound(start []byte) []byte {
	if len(start) == 0 {
		return nil
	}
	return start
}

// walk calls fn for each entry of the bounded iterator it, from the first.
func walk(it *pebble.Iterator, start, end []byte, fn func(k, v []byte) bool) error {
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("pebblekv: scan [%q, %q) at %q: %w", start, end, it.Key(), err)
		}
		if !fn(it.Key(), v) {
			return nil
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("pebblekv: scan [%q, %q): %w", start, end, err)
	}
	return nil
}

func (r *viewReader) close() error {
	var err error
	if r.getIt != nil {
		err = r.getIt.Close()
	}
	return errors.Join(err, r.root.Close())
}
