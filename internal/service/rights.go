package service

import (
	"sync"
	"syscall"

	"github.com/ferryfs/ferry/internal/chunk"
)

// sessGuard is what one session may touch beyond what meta checks with
// the caller's identity: the inodes the service handed it (for a
// subdirectory export), the files it opened and how, and the objects it
// may read and write. Meta checks permissions at open; the data path
// (layouts, commits, objects) names inodes and objects without a caller,
// so the service allows it only on what an open allowed.
//
// A layout read through an open file makes its objects readable by the
// session until its kernel forgets the inode (its data path keeps the
// layout that long). Object ids the session was allocated are its own to
// put, read, delete and commit. Memory is bounded by what the kernel
// holds and by maxRanges.
type sessGuard struct {
	mu       sync.Mutex
	known    map[uint64]struct{} // inodes handed out (subdirectory exports)
	readers  map[uint64]bool     // open inodes; true if open for writing
	readable map[uint64]uint64   // object → the inode whose layout named it
	byIno    map[uint64][]uint64 // inode → objects readable through it
	ranges   []idRange           // object ids allocated to the session
	// lenient: a session recovered after a restart of the service may
	// use any object (which ids it was allocated before was forgotten
	// with the restart; its session id is its credential).
	lenient bool
}

type idRange struct{ first, end uint64 }

// maxRanges bounds the allocations a session is remembered for; a client
// refills its batch of ids one allocation at a time.
const maxRanges = 1024

// maxKnown bounds the inodes remembered as handed to a session beyond
// those its kernel holds: past it, forgotten ones are dropped at once.
const maxKnown = 1 << 20

func (g *sessGuard) knows(ino uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.known[ino]
	return ok
}

func (g *sessGuard) hand(inos []uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.known == nil {
		g.known = make(map[uint64]struct{})
	}
	for _, ino := range inos {
		g.known[ino] = struct{}{}
	}
}

// forget drops what the session's kernel let go of: the layouts it read
// (its data path dropped them) and, only past maxKnown, the inodes (a
// forget may cross a reply that hands the inode again; the client then
// asks for it once more, and must find it still known).
func (g *sessGuard) forget(inos []uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	trim := len(g.known) > maxKnown
	for _, ino := range inos {
		for _, obj := range g.byIno[ino] {
			if g.readable[obj] == ino {
				delete(g.readable, obj)
			}
		}
		delete(g.byIno, ino)
		if trim {
			delete(g.known, ino)
		}
	}
}

func (g *sessGuard) opened(ino uint64, write bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.readers == nil {
		g.readers = make(map[uint64]bool)
	}
	g.readers[ino] = g.readers[ino] || write
}

func (g *sessGuard) closed(ino uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.readers, ino)
}

// open reports whether the session has ino open, and for writing.
func (g *sessGuard) open(ino uint64) (open, write bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	write, open = g.readers[ino]
	return open, write
}

func (g *sessGuard) allocated(first, n uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if k := len(g.ranges); k > 0 && g.ranges[k-1].end == first {
		g.ranges[k-1].end += n
		return
	}
	if len(g.ranges) == maxRanges {
		g.ranges = append(g.ranges[:0], g.ranges[1:]...)
	}
	g.ranges = append(g.ranges, idRange{first, first + n})
}

func (g *sessGuard) ownsLocked(obj uint64) bool {
	if g.lenient {
		return true
	}
	for _, r := range g.ranges {
		if obj >= r.first && obj < r.end {
			return true
		}
	}
	return false
}

func (g *sessGuard) laidOut(ino uint64, bs []chunk.Block) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.readable == nil {
		g.readable = make(map[uint64]uint64)
		g.byIno = make(map[uint64][]uint64)
	}
	for _, b := range bs {
		for _, p := range b.Pieces {
			if g.readable[p.Obj] != ino {
				g.readable[p.Obj] = ino
				g.byIno[ino] = append(g.byIno[ino], p.Obj)
			}
		}
	}
}

// object checks an object access: read (BlobGet), put, delete, or a
// commit of it into ino.
type objectUse int

const (
	objRead objectUse = iota
	objPut
	objDelete
	objCommit
)

func (g *sessGuard) mayUse(use objectUse, obj, ino uint64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ownsLocked(obj) {
		return nil
	}
	via, ok := g.readable[obj]
	switch use {
	case objRead:
		if ok {
			return nil
		}
	case objDelete:
		// a flush drops the objects its compaction shadowed
		if ok && g.readers[via] {
			return nil
		}
	case objCommit:
		if ok && via == ino {
			return nil
		}
	}
	return syscall.EACCES
}
