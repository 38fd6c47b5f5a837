package meta

import (
	"context"
	"errors"
	"syscall"

	"github.com/ferryfs/ferry/internal/kv"
)

// Point reads: one key each, outside any snapshot, the cheapest reads the
// store offers. Operations that read a single record use them; so does
// Lookup, whose reads need no common snapshot: an entry read before a
// concurrent rename or unlink is an answer from just before it.

// point returns the verified payload under key, ok=false if it is missing.
func (fs *FS) point(ctx context.Context, key []byte) ([]byte, bool, error) {
	v, err := fs.store.Get(ctx, key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	p, err := unseal(key, v)
	if err != nil {
		fs.corrupt(key)
		return nil, false, err
	}
	return p, true, nil
}

// getInode reads ino's whole record.
func (fs *FS) getInode(ctx context.Context, ino uint64) (*inode, error) {
	p, ok, err := fs.point(ctx, inodeKey(ino))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, syscall.ENOENT
	}
	n, err := decodeInode(ino, p)
	if err != nil {
		fs.corrupt(inodeKey(ino))
	}
	return n, err
}

func (fs *FS) getDirent(ctx context.Context, parent uint64, name string) (dirent, bool, error) {
	k := direntKey(parent, name)
	p, ok, err := fs.point(ctx, k)
	if err != nil || !ok {
		return dirent{}, ok, err
	}
	d, err := decodeDirent(p)
	if err != nil {
		fs.corrupt(k)
	}
	return d, true, err
}
