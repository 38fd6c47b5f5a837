package meta

import (
	"context"
	"encoding/binary"

	"github.com/ferryfs/ferry/internal/kv"
)

// ReadDir lists up to max entries of directory ino after cookie (0 starts
// at the beginning); "." and ".." are not included. With plus each entry
// carries its attributes. Entries come in name-hash order; a cookie stays
// valid while entries are added and removed.
func (fs *FS) ReadDir(ctx context.Context, c Caller, ino, cookie uint64, max int, plus bool) ([]DirEntry, error) {
	if max <= 0 {
		max = 1024
	}
	var out []DirEntry
	err := fs.view(ctx, func(r reader) error {
		out = out[:0]
		if _, err := r.dir(ino); err != nil {
			return err
		}
		var from uint64
		if cookie >= cookieBase {
			from = cookie - cookieBase + 1
			if from == 0 {
				return nil
			}
		}
		prefix := direntPrefix(ino)
		err := r.scan(direntKeyHash(ino, from), kv.PrefixEnd(prefix), func(k, p []byte) (bool, error) {
			d, err := decodeDirent(p)
			if err != nil {
				return false, err
			}
			h := binary.BigEndian.Uint64(k[len(prefix):])
			// Never end a batch between names whose hashes collide: the
			// next batch resumes after the hash.
			if len(out) >= max && out[len(out)-1].Cookie != h+cookieBase {
				return false, nil
			}
			e := DirEntry{Name: string(k[len(prefix)+8:]), Ino: d.Ino, Mode: d.Type, Cookie: h + cookieBase}
			out = append(out, e)
			return true, nil
		})
		if err != nil || !plus {
			return err
		}
		for i := range out {
			n, err := r.inode(out[i].Ino)
			if err != nil {
				return err
			}
			a := n.Attr
			out[i].Attr = &a
			out[i].Mode = a.Mode
		}
		return nil
	})
	return out, fail("readdir", ino, "", err)
}

// StatFS reports usage of the whole volume.
func (fs *FS) StatFS(ctx context.Context) (StatFS, error) {
	var st StatFS
	err := fs.view(ctx, func(r reader) error {
		_, u, _, err := r.sumUsage()
		st = StatFS{Files: uint64(max(u.Files, 0)), Bytes: uint64(max(u.Bytes, 0))}
		return err
	})
	return st, fail("statfs", 0, "", err)
}
