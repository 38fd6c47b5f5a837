package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/kv"
)

// FormatOptions configure a new volume's metadata.
type FormatOptions struct {
	BlockSize int    // bytes per data block
	UUID      string // volume identity
	RootUID   uint32
	RootGID   uint32
	RootMode  uint32 // permission bits of the root directory
	Now       func() time.Time
	// Name and Data are recorded for a volume that lives in a metadata
	// engine: its name and the URL of its object store.
	Name, Data string
}

// Super is the volume record stored in the metadata.
type Super struct {
	Version   int    `json:"version"`
	UUID      string `json:"uuid"`
	BlockSize int    `json:"block_size"`
	Created   int64  `json:"created"`
	// Name and Data (the object store's URL, without credentials) are
	// set for a volume that lives in a metadata engine; a volume
	// directory knows its objects by their place in it.
	Name string `json:"name,omitempty"`
	Data string `json:"data,omitempty"`
}

// FormatVersion is the metadata format this code writes and reads.
const FormatVersion = 1

// RootIno is the inode number of the root directory.
const RootIno = 1

// Format writes the volume record and the root directory into an empty store.
// It fails with EEXIST if the store already holds a volume.
func Format(ctx context.Context, store kv.Store, opts FormatOptions) error {
	if opts.BlockSize <= 0 || opts.BlockSize > 64<<20 || opts.BlockSize%4096 != 0 {
		return fmt.Errorf("format: block size %d is not a multiple of 4096 in (0, 64 MiB]", opts.BlockSize)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RootMode == 0 {
		opts.RootMode = 0o755
	}
	now := opts.Now().UnixNano()
	sb := Super{Version: FormatVersion, UUID: opts.UUID, BlockSize: opts.BlockSize, Created: now, Name: opts.Name, Data: opts.Data}
	js, err := json.Marshal(sb)
	if err != nil {
		return err
	}
	return store.Update(ctx, func(t kv.Txn) error {
		if _, err := t.Get(superKey()); err == nil {
			return fmt.Errorf("format: %w: store already holds a volume", syscall.EEXIST)
		}
		t.Set(superKey(), seal(superKey(), js))
		root := &inode{Attr: Attr{
			Ino: RootIno, Mode: syscall.S_IFDIR | opts.RootMode&0o7777, Nlink: 2,
			UID: opts.RootUID, GID: opts.RootGID, Atime: now, Mtime: now, Ctime: now,
		}, Parent: RootIno}
		t.Set(inodeKey(RootIno), seal(inodeKey(RootIno), root.encode()))
		first := make([]byte, 8)
		first[0] = RootIno + 1
		t.Set(counterKey("ino"), seal(counterKey("ino"), first))
		t.Set(usageKey(), seal(usageKey(), usage{Files: 1}.encode()))
		return nil
	})
}

// ReadSuper returns the volume record; a store without one is ENOENT, one
// from a newer format is an error naming both versions.
func ReadSuper(ctx context.Context, store kv.Store) (Super, error) {
	var sb Super
	err := store.View(ctx, func(r kv.Reader) error {
		v, err := r.Get(superKey())
		if err != nil {
			if err == kv.ErrNotFound {
				return fmt.Errorf("no volume record: %w", syscall.ENOENT)
			}
			return err
		}
		p, err := unseal(superKey(), v)
		if err != nil {
			return fmt.Errorf("volume record fails its checksum: %w", err)
		}
		return json.Unmarshal(p, &sb)
	})
	if err != nil {
		return Super{}, err
	}
	if sb.Version > FormatVersion {
		return Super{}, fmt.Errorf("volume has metadata format %d, this ferry reads format %d at most: upgrade ferry", sb.Version, FormatVersion)
	}
	if sb.BlockSize <= 0 {
		return Super{}, fmt.Errorf("volume record has invalid block size %d: %w", sb.BlockSize, syscall.EIO)
	}
	return sb, nil
}
