package meta

import (
	"context"
	"time"

	"github.com/ferryfs/ferry/internal/kv"
)

// reclaimOrphans purges files that were unlinked while open by a process
// that is gone: at start nobody holds anything open. An orphan open in
// this process (opened again by a client of a restarted service) is left
// to its last Release.
func (fs *FS) reclaimOrphans(ctx context.Context) error {
	var inos []uint64
	prefix := []byte{tagOrphan}
	err := fs.view(ctx, func(r reader) error {
		return r.r.Scan(prefix, kv.PrefixEnd(prefix), func(k, v []byte) bool {
			if len(k) == 9 {
				inos = append(inos, beUint64(k[1:]))
			}
			return true
		})
	})
	if err != nil {
		return err
	}
	for _, ino := range inos {
		fs.openMu.Lock()
		open := fs.opens[ino] > 0
		if open {
			fs.orphans[ino] = true // its last Release purges it
		}
		fs.openMu.Unlock()
		if open {
			continue
		}
		err := fs.update(ctx, func(t *tx) error {
			n, err := t.inode(ino)
			if err != nil {
				t.t.Delete(orphanKey(ino))
				return nil
			}
			return t.purge(n)
		})
		if err != nil {
			return err
		}
		fs.log.Info("reclaimed orphan inode", "ino", ino)
	}
	return nil
}

// reapDelay is how long the reaper lets garbage accumulate before it syncs
// and deletes it.
const reapDelay = 200 * time.Millisecond

func (fs *FS) wakeReaper() {
	select {
	case fs.reap <- struct{}{}:
	default:
	}
}

// reaper deletes garbage objects: first the objects, then their records,
// so a crash in between only repeats a delete.
func (fs *FS) reaper() {
	defer close(fs.reapDone)
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	for {
		select {
		case <-fs.stop:
			return
		case <-fs.reap:
			// Coalesce: one durable sync per batch of garbage, not per commit.
			select {
			case <-fs.stop:
				return
			case <-time.After(reapDelay):
			}
		case <-retry.C:
		}
		if err := fs.maybeFoldUsage(context.Background()); err != nil {
			fs.log.Warn("folding usage counters failed", "err", err)
		}
		if fs.opts.DeleteObjects == nil {
			continue
		}
		if err := fs.ReapGarbage(context.Background()); err != nil {
			fs.log.Warn("deleting unreferenced objects failed; will retry", "err", err)
			retry.Reset(10 * time.Second)
		}
	}
}

// ReapGarbage deletes every object recorded as garbage.
func (fs *FS) ReapGarbage(ctx context.Context) error {
	if fs.opts.DeleteObjects == nil {
		return nil
	}
	prefix := []byte{tagGarbage}
	for {
		var ids []uint64
		err := fs.view(ctx, func(r reader) error {
			return r.r.Scan(prefix, kv.PrefixEnd(prefix), func(k, v []byte) bool {
				if len(k) == 9 {
					ids = append(ids, beUint64(k[1:]))
				}
				return len(ids) < 1000
			})
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		// The records saying these objects are garbage must be durable
		// before the objects go: if the transaction that dropped them were
		// lost in a crash, the metadata would still reference them.
		if err := fs.store.Sync(ctx); err != nil {
			return err
		}
		if err := fs.opts.DeleteObjects(ctx, ids); err != nil {
			return err
		}
		err = fs.update(ctx, func(t *tx) error {
			for _, id := range ids {
				t.t.Delete(garbageKey(id))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// foldAfter is how many usage deltas make the background worker fold.
const foldAfter = 256

// maybeFoldUsage folds the usage deltas when many were written.
func (fs *FS) maybeFoldUsage(ctx context.Context) error {
	if fs.usageDeltas.Load()-fs.usageFolded.Load() < foldAfter {
		return nil
	}
	n := fs.usageDeltas.Load()
	if err := fs.foldUsage(ctx, nil); err != nil {
		return err
	}
	fs.usageFolded.Store(n)
	return nil
}
