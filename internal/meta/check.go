package meta

import (
	"context"
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/ferryfs/ferry/internal/kv"
)

// CheckReport is what Check found.
type CheckReport struct {
	Inodes   int
	Dirs     int
	Entries  int
	Blocks   int
	Orphans  int // open-unlinked files awaiting reclaim
	Problems []string
	Repaired int
	// Objects maps every referenced object to the inode that holds it.
	Objects map[uint64]uint64
	// Garbage lists objects recorded as dropped and not yet deleted.
	Garbage map[uint64]bool
}

type checkInode struct {
	n       *inode
	links   uint32 // names found
	subdirs uint32
	parents []uint64
}

// Check verifies the metadata's internal consistency: every record's
// checksum, every entry's target, link counts, directory parents, block
// layouts and usage counters. With repair it fixes what it can: link
// counts, dangling entries, records of missing inodes, unreachable inodes
// (moved to /lost+found) and usage counters.
func (fs *FS) Check(ctx context.Context, repair bool) (CheckReport, error) {
	rep := CheckReport{Objects: map[uint64]uint64{}, Garbage: map[uint64]bool{}}
	inodes := map[uint64]*checkInode{}
	var danglingEntries, strayKeys [][]byte
	var trims []trim
	var fixes []linkFix
	problem := func(format string, args ...any) {
		rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
	}
	bs := uint64(fs.super.BlockSize)
	var stored usage
	err := fs.store.View(ctx, func(kr kv.Reader) error {
		return kr.Scan(nil, nil, func(k, v []byte) bool {
			p, err := unseal(k, v)
			if err != nil {
				problem("record %x fails its checksum", k)
				strayKeys = append(strayKeys, clone(k))
				return true
			}
			switch k[0] {
			case tagInode:
				ino := binary.BigEndian.Uint64(k[1:])
				n, err := decodeInode(ino, p)
				if err != nil {
					problem("inode %d: undecodable record", ino)
					return true
				}
				inodes[ino] = &checkInode{n: n}
				rep.Inodes++
				if n.isDir() {
					rep.Dirs++
				}
			}
			return true
		})
	})
	if err != nil {
		return rep, err
	}
	err = fs.view(ctx, func(r reader) error {
		_, stored, _, err = r.sumUsage()
		return err
	})
	if err != nil {
		return rep, err
	}
	if _, ok := inodes[RootIno]; !ok {
		return rep, fmt.Errorf("check: root directory is missing: %w", syscall.EIO)
	}
	err = fs.store.View(ctx, func(kr kv.Reader) error {
		return kr.Scan(nil, nil, func(k, v []byte) bool {
			p, err := unseal(k, v)
			if err != nil {
				return true // reported above
			}
			switch k[0] {
			case tagDirent:
				rep.Entries++
				parent := binary.BigEndian.Uint64(k[1:])
				name := string(k[17:])
				d, err := decodeDirent(p)
				pi, pok := inodes[parent]
				ci, cok := inodes[d.Ino]
				switch {
				case err != nil:
					problem("entry %d/%q: undecodable", parent, name)
					danglingEntries = append(danglingEntries, clone(k))
				case !pok || !pi.n.isDir():
					problem("entry %d/%q: parent is not a directory", parent, name)
					danglingEntries = append(danglingEntries, clone(k))
				case !cok:
					problem("entry %d/%q: inode %d does not exist", parent, name, d.Ino)
					danglingEntries = append(danglingEntries, clone(k))
				case nameHash(name) != binary.BigEndian.Uint64(k[9:]):
					problem("entry %d/%q: misplaced (wrong hash)", parent, name)
				default:
					ci.links++
					ci.parents = append(ci.parents, parent)
					if ci.n.isDir() {
						pi.subdirs++
					}
				}
			case tagBlock:
				rep.Blocks++
				ino := binary.BigEndian.Uint64(k[1:])
				idx := binary.BigEndian.Uint64(k[9:])
				ci, ok := inodes[ino]
				if !ok || !ci.n.isReg() {
					problem("block %d of inode %d: no such regular file", idx, ino)
					strayKeys = append(strayKeys, clone(k))
					return true
				}
				ps, err := decodePieces(p)
				if err != nil {
					problem("block %d of inode %d: undecodable", idx, ino)
					return true
				}
				var end uint32
				for _, q := range ps {
					if q.Off < end || uint64(q.End()) > bs || q.Len == 0 || q.Obj == 0 {
						problem("block %d of inode %d: malformed pieces %v", idx, ino, ps)
						break
					}
					end = q.End()
					if holder, dup := rep.Objects[q.Obj]; dup && holder != ino {
						problem("object %d referenced by inodes %d and %d", q.Obj, holder, ino)
					}
					rep.Objects[q.Obj] = ino
				}
				if idx*bs+uint64(end) > ci.n.Size {
					problem("block %d of inode %d: data past the file size %d", idx, ino, ci.n.Size)
					trims = append(trims, trim{ino: ino})
				}
			case tagXattr, tagOrphan:
				ino := binary.BigEndian.Uint64(k[1:])
				ci, ok := inodes[ino]
				switch {
				case !ok:
					problem("%c record of missing inode %d", k[0], ino)
					strayKeys = append(strayKeys, clone(k))
				case k[0] == tagXattr && ci.n.Flags&inodeXattrs == 0:
					problem("inode %d has extended attributes but no flag saying so", ino)
					fixes = append(fixes, linkFix{ino: ino, nlink: ci.n.Nlink, xattrFlag: true})
				case k[0] == tagOrphan:
					rep.Orphans++
					if ci.n.Nlink != 0 {
						problem("orphan record of linked inode %d", ino)
						strayKeys = append(strayKeys, clone(k))
					}
				}
			case tagGarbage:
				rep.Garbage[binary.BigEndian.Uint64(k[1:])] = true
			case tagLock:
				if why := checkLocks(k, p, inodes); why != "" {
					problem("%s", why)
					strayKeys = append(strayKeys, clone(k))
				}
			}
			return true
		})
	})
	if err != nil {
		return rep, err
	}
	for id := range rep.Garbage {
		if ino, ok := rep.Objects[id]; ok {
			problem("object %d is recorded as garbage but inode %d references it", id, ino)
			delete(rep.Garbage, id) // never delete it
		}
	}
	var want usage
	for ino, ci := range inodes {
		want.Files++
		if ci.n.isReg() {
			want.Bytes += int64(ci.n.Size)
		}
		expect := ci.links
		if ci.n.isDir() {
			expect = 2 + ci.subdirs
			switch {
			case ino == RootIno: // named by no entry
			case ci.links > 1:
				problem("directory %d has %d names", ino, ci.links)
			case ci.links == 1 && ci.n.Parent != ci.parents[0]:
				problem("directory %d: parent is %d, entry is in %d", ino, ci.n.Parent, ci.parents[0])
				fixes = append(fixes, linkFix{ino: ino, nlink: expect, parent: ci.parents[0]})
				continue
			}
		}
		unreachable := ci.links == 0 && ino != RootIno
		if unreachable && ci.n.Nlink == 0 {
			continue // an orphan, reclaimed at the next start
		}
		if unreachable {
			problem("inode %d has no name (nlink %d)", ino, ci.n.Nlink)
			fixes = append(fixes, linkFix{ino: ino, lost: true})
			continue
		}
		if ci.n.Nlink != expect {
			problem("inode %d: nlink %d, found %d", ino, ci.n.Nlink, expect)
			fixes = append(fixes, linkFix{ino: ino, nlink: expect})
		}
	}
	if want.Files != stored.Files || want.Bytes != stored.Bytes {
		problem("usage counters say %d files / %d bytes, found %d / %d", stored.Files, stored.Bytes, want.Files, want.Bytes)
	}
	if !repair || len(rep.Problems) == 0 {
		return rep, nil
	}
	n, err := fs.repair(ctx, danglingEntries, strayKeys, trims, fixes, want)
	rep.Repaired = n
	return rep, err
}

type linkFix struct {
	ino       uint64
	nlink     uint32
	parent    uint64
	lost      bool
	xattrFlag bool
}

type trim struct{ ino uint64 }

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func (fs *FS) repair(ctx context.Context, dangling, stray [][]byte, trims []trim, fixes []linkFix, want usage) (int, error) {
	repaired := 0
	err := fs.update(ctx, func(t *tx) error {
		for _, k := range append(dangling, stray...) {
			t.t.Delete(k)
		}
		return nil
	})
	if err != nil {
		return repaired, err
	}
	repaired += len(dangling) + len(stray)
	for _, tr := range trims {
		err := fs.update(ctx, func(t *tx) error {
			n, err := t.inode(tr.ino)
			if err != nil {
				return err
			}
			size := n.Size
			n.Size = size + 1 // force truncate to look at every block past size
			if err := t.truncate(n, size); err != nil {
				return err
			}
			t.bytes = 0
			t.putInode(n)
			return nil
		})
		if err != nil {
			return repaired, err
		}
		repaired++
	}
	var lostFound, lostIno uint64
	for _, f := range fixes {
		if f.lost && lostIno == 0 {
			// Allocate outside the transaction: the allocator has its own.
			if lostIno, err = fs.inos.alloc(ctx, fs, 1); err != nil {
				return repaired, err
			}
		}
	}
	for _, f := range fixes {
		err := fs.update(ctx, func(t *tx) error {
			n, err := t.inode(f.ino)
			if err != nil {
				return err
			}
			if f.lost {
				if lostFound == 0 {
					lf, err := t.lostFound(lostIno)
					if err != nil {
						return err
					}
					lostFound = lf
				}
				name := fmt.Sprintf("#%d", f.ino)
				t.putDirent(lostFound, name, dirent{Ino: f.ino, Type: n.fileType()})
				if n.isDir() {
					n.Parent = lostFound
					lf, err := t.inode(lostFound)
					if err != nil {
						return err
					}
					lf.Nlink++
					t.putInode(lf)
					n.Nlink = 2 // recounted by the next check
				} else {
					n.Nlink = 1
				}
			} else if f.xattrFlag {
				n.Flags |= inodeXattrs
			} else {
				n.Nlink = f.nlink
				if f.parent != 0 {
					n.Parent = f.parent
				}
			}
			t.putInode(n)
			return nil
		})
		if err != nil {
			return repaired, err
		}
		repaired++
	}
	if lostIno != 0 && lostFound == lostIno {
		want.Files++ // made /lost+found
	}
	return repaired, fs.foldUsage(ctx, &want)
}

// lostFound returns /lost+found, making it as inode ino if needed.
func (t *tx) lostFound(ino uint64) (uint64, error) {
	const name = "lost+found"
	if d, ok, err := t.dirent(RootIno, name); err != nil || ok {
		return d.Ino, err
	}
	root, err := t.inode(RootIno)
	if err != nil {
		return 0, err
	}
	n := &inode{Attr: Attr{Ino: ino, Mode: syscall.S_IFDIR | 0o700, Nlink: 2, Atime: t.now, Mtime: t.now, Ctime: t.now}, Parent: RootIno}
	root.Nlink++
	t.putInode(n)
	t.putInode(root)
	t.putDirent(RootIno, name, dirent{Ino: ino, Type: syscall.S_IFDIR})
	return ino, nil
}
