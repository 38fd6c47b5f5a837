// Package fsck checks a volume's metadata against its object store and
// collects objects nobody references. It runs on a volume that is not
// mounted: the volume lock guarantees no client uploads meanwhile.
package fsck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/meta"
)

// Options configure Check.
type Options struct {
	Repair bool // fix what can be fixed
	Verify bool // read every referenced object and verify its checksum
}

// Report is what Check found.
type Report struct {
	Meta         meta.CheckReport
	Objects      int   // objects in the store
	ObjectBytes  int64 // their total size
	Missing      []uint64
	Corrupt      []uint64
	Unreferenced []uint64 // neither referenced nor recorded as garbage
	Deleted      int      // objects deleted by repair
}

// Clean reports whether nothing is wrong.
func (r Report) Clean() bool {
	return len(r.Meta.Problems) == 0 && len(r.Missing) == 0 && len(r.Corrupt) == 0 && len(r.Unreferenced) == 0
}

// Check verifies fs and objs against each other and writes a
// human-readable account to out.
func Check(ctx context.Context, fs *meta.FS, objs blob.Store, opts Options, out io.Writer) (Report, error) {
	start := time.Now()
	var rep Report
	mr, err := fs.Check(ctx, opts.Repair)
	rep.Meta = mr
	if err != nil {
		return rep, err
	}
	present := map[uint64]bool{}
	err = objs.List(ctx, "blocks/", func(o blob.Object) error {
		rep.Objects++
		rep.ObjectBytes += o.Size
		id, ok := chunk.ParseObjectKey(o.Key)
		if !ok {
			fmt.Fprintf(out, "warning: foreign object %q in the object store\n", o.Key)
			return nil
		}
		present[id] = true
		if _, ref := mr.Objects[id]; !ref && !mr.Garbage[id] {
			rep.Unreferenced = append(rep.Unreferenced, id)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("listing objects: %w", err)
	}
	for id, ino := range mr.Objects {
		if !present[id] {
			rep.Missing = append(rep.Missing, id)
			fmt.Fprintf(out, "inode %d: object %s is missing: its data reads as EIO\n", ino, chunk.ObjectKey(id))
			continue
		}
		if opts.Verify {
			key := chunk.ObjectKey(id)
			data, err := objs.Get(ctx, key, 0, -1)
			if err == nil {
				_, err = chunk.DecodeObject(key, data)
			}
			if err != nil {
				rep.Corrupt = append(rep.Corrupt, id)
				fmt.Fprintf(out, "inode %d: object %s: %v\n", ino, key, err)
			}
		}
	}
	slices.Sort(rep.Missing)
	slices.Sort(rep.Corrupt)
	slices.Sort(rep.Unreferenced)
	for _, p := range mr.Problems {
		fmt.Fprintf(out, "metadata: %s\n", p)
	}
	if len(rep.Unreferenced) > 0 {
		fmt.Fprintf(out, "%d objects are referenced by no file (uploads never committed)\n", len(rep.Unreferenced))
	}
	if opts.Repair {
		if err := fs.ReapGarbage(ctx); err != nil {
			return rep, fmt.Errorf("deleting garbage objects: %w", err)
		}
		n, err := deleteObjects(ctx, objs, rep.Unreferenced)
		rep.Deleted = n
		if err != nil {
			return rep, err
		}
	}
	fmt.Fprintf(out, "%d inodes (%d directories), %d entries, %d blocks, %d objects (%s), %d orphans awaiting reclaim, checked in %v\n",
		mr.Inodes, mr.Dirs, mr.Entries, mr.Blocks, rep.Objects, human(rep.ObjectBytes), mr.Orphans, time.Since(start).Round(time.Millisecond))
	switch {
	case rep.Clean():
		fmt.Fprintln(out, "volume is clean")
	case opts.Repair:
		fmt.Fprintf(out, "repaired %d metadata problems, deleted %d unreferenced objects\n", mr.Repaired, rep.Deleted)
	default:
		fmt.Fprintln(out, "volume has problems: run with --repair")
	}
	return rep, nil
}

// GCReport is what GC did.
type GCReport struct {
	Deleted int
	Bytes   int64
}

// GC deletes objects recorded as garbage and objects no file references.
func GC(ctx context.Context, fs *meta.FS, objs blob.Store, out io.Writer) (GCReport, error) {
	var rep GCReport
	if err := fs.ReapGarbage(ctx); err != nil {
		return rep, fmt.Errorf("deleting garbage objects: %w", err)
	}
	mr, err := fs.Check(ctx, false)
	if err != nil {
		return rep, err
	}
	if len(mr.Problems) > 0 {
		return rep, errors.New("metadata has problems: run ferry fsck --repair first")
	}
	var ids []uint64
	sizes := map[uint64]int64{}
	err = objs.List(ctx, "blocks/", func(o blob.Object) error {
		id, ok := chunk.ParseObjectKey(o.Key)
		if ok {
			if _, ref := mr.Objects[id]; !ref {
				ids = append(ids, id)
				sizes[id] = o.Size
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("listing objects: %w", err)
	}
	n, err := deleteObjects(ctx, objs, ids)
	rep.Deleted = n
	for _, id := range ids[:n] {
		rep.Bytes += sizes[id]
	}
	fmt.Fprintf(out, "deleted %d unreferenced objects (%s)\n", rep.Deleted, human(rep.Bytes))
	return rep, err
}

func deleteObjects(ctx context.Context, objs blob.Store, ids []uint64) (int, error) {
	for i, id := range ids {
		if err := objs.Delete(ctx, chunk.ObjectKey(id)); err != nil {
			return i, fmt.Errorf("deleting object %s: %w", chunk.ObjectKey(id), err)
		}
	}
	if err := blob.Sync(ctx, objs); err != nil {
		return len(ids), err
	}
	return len(ids), nil
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
