package meta

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/kv"
)

// reader wraps a kv.Reader with typed, checksum-verified accessors.
type reader struct {
	r  kv.Reader
	fs *FS
}

// get returns the verified payload under key, ok=false if it is missing.
func (r reader) get(key []byte) ([]byte, bool, error) {
	v, err := r.r.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	p, err := unseal(key, v)
	if err != nil {
		r.fs.corrupt(key)
		return nil, false, err
	}
	return p, true, nil
}

func (r reader) inode(ino uint64) (*inode, error) {
	p, ok, err := r.get(inodeKey(ino))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, syscall.ENOENT
	}
	n, err := decodeInode(ino, p)
	if err != nil {
		r.fs.corrupt(inodeKey(ino))
	}
	return n, err
}

// dir returns ino, failing with ENOTDIR if it is not a directory and ENOENT
// if it was removed.
func (r reader) dir(ino uint64) (*inode, error) {
	n, err := r.inode(ino)
	if err != nil {
		return nil, err
	}
	if !n.isDir() {
		return nil, syscall.ENOTDIR
	}
	if n.Nlink == 0 {
		return nil, syscall.ENOENT
	}
	return n, nil
}

func (r reader) dirent(parent uint64, name string) (dirent, bool, error) {
	k := direntKey(parent, name)
	p, ok, err := r.get(k)
	if err != nil || !ok {
		return dirent{}, ok, err
	}
	d, err := decodeDirent(p)
	if err != nil {
		r.fs.corrupt(k)
	}
	return d, true, err
}

func (r reader) block(ino, idx uint64) ([]chunk.Piece, error) {
	k := blockKey(ino, idx)
	p, ok, err := r.get(k)
	if err != nil || !ok {
		return nil, err
	}
	ps, err := decodePieces(p)
	if err != nil {
		r.fs.corrupt(k)
	}
	return ps, err
}

// prefetcher is a store's transaction that can read several keys in one
// round trip (a store on a network engine, such as pgkv).
type prefetcher interface {
	Prefetch(keys ...[]byte)
}

// prefetch tells the store which keys the transaction is about to read,
// so that one that pays a round trip per read can fetch them at once. It
// changes nothing else: a failure shows at the next read.
func (r reader) prefetch(keys ...[]byte) {
	if p, ok := r.r.(prefetcher); ok {
		p.Prefetch(keys...)
	}
}

// scan iterates verified records in [start, end).
func (r reader) scan(start, end []byte, fn func(key, payload []byte) (bool, error)) error {
	var ferr error
	err := r.r.Scan(start, end, func(k, v []byte) bool {
		p, err := unseal(k, v)
		if err != nil {
			r.fs.corrupt(k)
			ferr = err
			return false
		}
		more, err := fn(k, p)
		if err != nil {
			ferr = err
			return false
		}
		return more
	})
	if err != nil {
		return err
	}
	return ferr
}

// tx is a read-write transaction with typed accessors. It accumulates the
// usage delta and the work to do once it commits.
type tx struct {
	reader
	t       kv.Txn
	now     int64
	files   int64
	bytes   int64
	garbage bool      // objects were dropped: wake the reaper
	orphans []uint64  // inodes that became orphans
	claims  []uint64  // purge claims to drop when the transaction ends
	usageID uint64    // the id of its usage delta record, 0 if none
	changes changeSet // what the transaction changed, when somebody listens
}

// markOrphan records that ino has no name left but is still open.
func (t *tx) markOrphan(ino uint64) {
	t.put(orphanKey(ino), nil)
	t.orphans = append(t.orphans, ino)
}

func (t *tx) put(key, payload []byte) { t.t.Set(key, seal(key, payload)) }

func (t *tx) putInode(n *inode) {
	t.put(inodeKey(n.Ino), n.encode())
	t.changes.attr(n.Ino)
}

func (t *tx) putDirent(parent uint64, name string, d dirent) {
	t.put(direntKey(parent, name), d.encode())
	t.changes.name(parent, name)
}

func (t *tx) delDirent(parent uint64, name string) {
	t.t.Delete(direntKey(parent, name))
	t.changes.name(parent, name)
}

func (t *tx) putBlock(ino, idx uint64, ps []chunk.Piece) {
	t.changes.data(ino)
	if len(ps) == 0 {
		t.t.Delete(blockKey(ino, idx))
		return
	}
	t.put(blockKey(ino, idx), encodePieces(ps))
}

// dropObjects records objects nobody references any more.
func (t *tx) dropObjects(ids []uint64) {
	for _, id := range ids {
		t.put(garbageKey(id), nil)
		t.garbage = true
	}
}

// update runs fn in a transaction, retried on conflict by the store.
func (fs *FS) update(ctx context.Context, fn func(t *tx) error) error {
	var garbage bool
	var orphans, claims, usageIDs []uint64
	var changes changeSet
	defer func() { fs.dropClaims(claims) }()
	defer func() { fs.usageEnded(usageIDs) }()
	err := fs.store.Update(ctx, func(kt kv.Txn) error {
		t := &tx{reader: reader{r: kt, fs: fs}, t: kt, now: fs.opts.Now().UnixNano()}
		if fs.opts.OnCommit != nil {
			t.changes.m = make(map[uint64]*Change)
		}
		defer func() {
			claims = append(claims, t.claims...)
			if t.usageID != 0 {
				usageIDs = append(usageIDs, t.usageID)
			}
		}()
		if err := fn(t); err != nil {
			return err
		}
		t.stampCall(ctx)
		if t.files != 0 || t.bytes != 0 {
			if err := t.applyUsage(); err != nil {
				return err
			}
		}
		garbage, orphans, changes = t.garbage, t.orphans, t.changes
		return nil
	})
	if err == nil && len(changes.m) > 0 {
		fs.opts.OnCommit(ctx, changes.list())
	}
	if err == nil && len(orphans) > 0 {
		fs.openMu.Lock()
		for _, ino := range orphans {
			fs.orphans[ino] = true
		}
		fs.openMu.Unlock()
	}
	if err == nil && garbage {
		fs.wakeReaper()
	}
	return err
}

func (t *tx) applyUsage() error {
	id := t.fs.usageBegun()
	t.usageID = id
	t.put(usageDeltaKey(id), usage{Files: t.files, Bytes: t.bytes}.encode())
	if t.fs.usageDeltas.Add(1)%foldAfter == 0 {
		t.garbage = true // wake the background worker, which also folds
	}
	return nil
}

// usageBase reads the usage base record (zero if there is none).
func (r reader) usageBase() (usage, error) {
	p, ok, err := r.get(usageKey())
	if err != nil || !ok {
		return usage{}, err
	}
	return decodeUsage(p)
}

// sumUsage adds the usage base and the deltas not folded into it. It
// returns the base, the sum, and the highest delta id seen.
func (r reader) sumUsage() (base, sum usage, last uint64, err error) {
	if base, err = r.usageBase(); err != nil {
		return base, sum, 0, err
	}
	sum, last = base, base.Upto
	// Deltas folded earlier are deleted; starting past them keeps the
	// scan off their tombstones.
	err = r.scan(usageDeltaKey(base.Upto+1), kv.PrefixEnd(usageKey()), func(k, p []byte) (bool, error) {
		d, err := decodeUsage(p)
		if err != nil {
			return false, err
		}
		sum.Files += d.Files
		sum.Bytes += d.Bytes
		last = beUint64(k[1:])
		return true, nil
	})
	return base, sum, last, err
}

// foldUsage folds the deltas into the base record; with set, the base is
// set to *set instead (fsck's repair).
func (fs *FS) foldUsage(ctx context.Context, set *usage) error {
	// Delta ids are taken before their transactions commit, so a lower
	// id may commit after a higher one: fold only below every id still
	// in flight, or a late one would land under the base and be lost.
	floor := fs.usageFloor()
	return fs.update(ctx, func(t *tx) error {
		base, err := t.usageBase()
		if err != nil {
			return err
		}
		if set == nil && floor <= base.Upto {
			return nil // nothing new to fold
		}
		sum := base
		var keys [][]byte
		err = t.scan(usageDeltaKey(base.Upto+1), usageDeltaKey(floor+1), func(k, p []byte) (bool, error) {
			d, err := decodeUsage(p)
			if err != nil {
				return false, err
			}
			sum.Files += d.Files
			sum.Bytes += d.Bytes
			keys = append(keys, clone(k))
			return true, nil
		})
		if err != nil {
			return err
		}
		if set != nil {
			sum = *set
		}
		for _, k := range keys {
			t.t.Delete(k)
		}
		sum.Upto = max(floor, base.Upto)
		t.put(usageKey(), sum.encode())
		return nil
	})
}

// usageBegun takes the id of a transaction's usage delta record.
func (fs *FS) usageBegun() uint64 {
	fs.usageMu.Lock()
	defer fs.usageMu.Unlock()
	id := fs.usageSeq.Add(1)
	if fs.usageLive == nil {
		fs.usageLive = make(map[uint64]bool)
	}
	fs.usageLive[id] = true
	return id
}

// usageEnded says that the transactions of ids committed or gave up.
func (fs *FS) usageEnded(ids []uint64) {
	if len(ids) == 0 {
		return
	}
	fs.usageMu.Lock()
	defer fs.usageMu.Unlock()
	for _, id := range ids {
		delete(fs.usageLive, id)
	}
}

// usageFloor returns the highest delta id below which no transaction is
// still in flight.
func (fs *FS) usageFloor() uint64 {
	fs.usageMu.Lock()
	defer fs.usageMu.Unlock()
	floor := fs.usageSeq.Load()
	for id := range fs.usageLive {
		floor = min(floor, id-1)
	}
	return floor
}

// view runs fn on a consistent snapshot.
func (fs *FS) view(ctx context.Context, fn func(r reader) error) error {
	return fs.store.View(ctx, func(kr kv.Reader) error { return fn(reader{r: kr, fs: fs}) })
}

func (fs *FS) corrupt(key []byte) {
	fs.log.Error("corrupt metadata record: checksum mismatch", "key", fmt.Sprintf("%x", key))
}

// fail wraps err as the *Error of an operation.
func fail(op string, ino uint64, name string, err error) error {
	if err == nil {
		return nil
	}
	var me *Error
	if errors.As(err, &me) {
		return err
	}
	var en syscall.Errno
	if !errors.As(err, &en) {
		err = fmt.Errorf("%w: %w", syscall.EIO, err)
	}
	return &Error{Op: op, Ino: ino, Name: name, Err: err}
}

const pieceLen = 20

func encodePieces(ps []chunk.Piece) []byte {
	b := make([]byte, 0, len(ps)*pieceLen)
	for _, p := range ps {
		b = binary.LittleEndian.AppendUint64(b, p.Obj)
		b = binary.LittleEndian.AppendUint32(b, p.ObjOff)
		b = binary.LittleEndian.AppendUint32(b, p.Off)
		b = binary.LittleEndian.AppendUint32(b, p.Len)
	}
	return b
}

func decodePieces(b []byte) ([]chunk.Piece, error) {
	if len(b)%pieceLen != 0 {
		return nil, errCorrupt
	}
	ps := make([]chunk.Piece, len(b)/pieceLen)
	le := binary.LittleEndian
	for i := range ps {
		r := b[i*pieceLen:]
		ps[i] = chunk.Piece{Obj: le.Uint64(r), ObjOff: le.Uint32(r[8:]), Off: le.Uint32(r[12:]), Len: le.Uint32(r[16:])}
	}
	return ps, nil
}
