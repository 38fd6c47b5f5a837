package locks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Type is what a lock allows others.
type Type uint8

// Types; Unlock appears only in requests (and in a GetLock answer that
// found nothing in the way).
const (
	Read   Type = 1 // shared: others may read-lock the range too
	Write  Type = 2 // exclusive
	Unlock Type = 3
)

func (t Type) String() string {
	switch t {
	case Read:
		return "read"
	case Write:
		return "write"
	case Unlock:
		return "unlock"
	}
	return fmt.Sprintf("type%d", uint8(t))
}

// Owner holds locks: a process (POSIX) or an open file description
// (flock), named by the kernel's lock owner id, within a client session.
type Owner struct {
	Session uint64
	ID      uint64
}

// Lock is one lock, or a request for one.
type Lock struct {
	Owner Owner
	Flock bool // a flock(2) lock: whole file, per open file description
	Type  Type
	// Start and End bound the range, both included. A flock lock covers
	// [0, math.MaxUint64].
	Start, End uint64
	Pid        uint32 // the locking process, for F_GETLK; 0 if unknown
}

// Whole is the End of a lock that reaches past any offset.
const Whole = ^uint64(0)

func (l Lock) String() string {
	kind := "posix"
	if l.Flock {
		kind = "flock"
	}
	return fmt.Sprintf("%s %v [%d,%d] owner %d/%d pid %d", kind, l.Type, l.Start, l.End, l.Owner.Session, l.Owner.ID, l.Pid)
}

// ErrInvalid is the kind of a request that names no lock: an unknown
// type or a range that ends before it starts.
var ErrInvalid = errors.New("invalid lock")

// Check validates a request.
func (l Lock) Check() error {
	if l.Type != Read && l.Type != Write && l.Type != Unlock {
		return fmt.Errorf("%w: type %d", ErrInvalid, l.Type)
	}
	if l.End < l.Start {
		return fmt.Errorf("%w: range [%d,%d]", ErrInvalid, l.Start, l.End)
	}
	return nil
}

// overlaps reports whether the ranges of a and b share a byte.
func overlaps(a, b Lock) bool { return a.Start <= b.End && b.Start <= a.End }

// same reports whether a and b are of one owner and one kind.
func same(a, b Lock) bool { return a.Owner == b.Owner && a.Flock == b.Flock }

// conflicts reports whether held stands in the way of request.
func conflicts(held, request Lock) bool {
	return held.Flock == request.Flock && held.Owner != request.Owner &&
		(held.Type == Write || request.Type == Write) && overlaps(held, request)
}

// Set is the locks of one inode, in no particular order.
type Set []Lock

// Conflict returns the first lock of s that stands in the way of
// request (a Read or Write), if any: F_GETLK.
func (s Set) Conflict(request Lock) (Lock, bool) {
	for _, h := range s {
		if conflicts(h, request) {
			return h, true
		}
	}
	return Lock{}, false
}

// Apply returns the set after request: a lock taken, converted, or (Type
// Unlock) released. If another owner's lock stands in the way, it
// returns that lock and ok=false, and next is the set to store anyway
// (a failed flock conversion has dropped the old lock; otherwise next
// is s). changed reports whether next differs from s.
func (s Set) Apply(request Lock) (next Set, blocker Lock, ok, changed bool) {
	if request.Flock {
		request.Start, request.End = 0, Whole
	}
	// What the owner keeps of its own locks of this kind, outside the
	// request's range; everything else stays as it is.
	var kept Set
	for _, h := range s {
		switch {
		case !same(h, request) || !overlaps(h, request):
			kept = append(kept, h)
		default:
			if h.Start < request.Start {
				left := h
				left.End = request.Start - 1
				kept = append(kept, left)
			}
			if h.End > request.End {
				right := h
				right.Start = request.End + 1
				kept = append(kept, right)
			}
		}
	}
	if request.Type != Unlock {
		if b, in := s.Conflict(request); in {
			if request.Flock {
				return kept, b, false, len(kept) != len(s)
			}
			return s, b, false, false
		}
		kept = append(kept, request)
		kept = kept.merge(request)
	}
	kept.sort()
	return kept, Lock{}, true, !slices.Equal(kept, s.sorted())
}

// merge joins the owner's locks of request's kind and type that touch
// or overlap (the new lock is among them).
func (s Set) merge(request Lock) Set {
	var own, rest Set
	for _, h := range s {
		if same(h, request) && h.Type == request.Type {
			own = append(own, h)
		} else {
			rest = append(rest, h)
		}
	}
	slices.SortFunc(own, func(a, b Lock) int { return cmpU64(a.Start, b.Start) })
	var joined Set
	for _, h := range own {
		if n := len(joined); n > 0 {
			last := &joined[n-1]
			if last.End == Whole || h.Start <= last.End+1 {
				if h.End > last.End {
					last.End = h.End
				}
				if h.Start == request.Start && h.End == request.End {
					last.Pid = request.Pid
				}
				continue
			}
		}
		joined = append(joined, h)
	}
	return append(rest, joined...)
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sort orders s by owner, kind and start, so that equal sets encode
// equally.
func (s Set) sort() {
	slices.SortFunc(s, func(a, b Lock) int {
		if c := cmpU64(a.Owner.Session, b.Owner.Session); c != 0 {
			return c
		}
		if c := cmpU64(a.Owner.ID, b.Owner.ID); c != 0 {
			return c
		}
		if a.Flock != b.Flock {
			if a.Flock {
				return 1
			}
			return -1
		}
		return cmpU64(a.Start, b.Start)
	})
}

func (s Set) sorted() Set {
	c := slices.Clone(s)
	c.sort()
	return c
}

// DropSessions returns s without the locks of the sessions drop says,
// and whether any went.
func (s Set) DropSessions(drop func(session uint64) bool) (Set, bool) {
	next := slices.DeleteFunc(slices.Clone(s), func(l Lock) bool { return drop(l.Owner.Session) })
	return next, len(next) != len(s)
}

// Held reports whether session holds any lock in s.
func (s Set) Held(session uint64) bool {
	return slices.ContainsFunc(s, func(l Lock) bool { return l.Owner.Session == session })
}

// lockSize is the encoding of one lock: session, id, start, end (u64),
// pid (u32), type, flags (u8).
const lockSize = 8*4 + 4 + 2

// Encode returns s's encoding: a version byte and the locks.
func (s Set) Encode() []byte {
	b := make([]byte, 1, 1+len(s)*lockSize)
	b[0] = 1
	for _, l := range s {
		b = binary.BigEndian.AppendUint64(b, l.Owner.Session)
		b = binary.BigEndian.AppendUint64(b, l.Owner.ID)
		b = binary.BigEndian.AppendUint64(b, l.Start)
		b = binary.BigEndian.AppendUint64(b, l.End)
		b = binary.BigEndian.AppendUint32(b, l.Pid)
		var flags byte
		if l.Flock {
			flags = 1
		}
		b = append(b, byte(l.Type), flags)
	}
	return b
}

// ErrCorrupt is the kind of an encoding Decode cannot read.
var ErrCorrupt = errors.New("malformed lock set")

// Decode reads an encoding of Encode.
func Decode(b []byte) (Set, error) {
	if len(b) < 1 || b[0] != 1 || (len(b)-1)%lockSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(b))
	}
	b = b[1:]
	s := make(Set, 0, len(b)/lockSize)
	for ; len(b) > 0; b = b[lockSize:] {
		l := Lock{
			Owner: Owner{Session: binary.BigEndian.Uint64(b), ID: binary.BigEndian.Uint64(b[8:])},
			Start: binary.BigEndian.Uint64(b[16:]), End: binary.BigEndian.Uint64(b[24:]),
			Pid: binary.BigEndian.Uint32(b[32:]), Type: Type(b[36]), Flock: b[37]&1 != 0,
		}
		if b[37]&^1 != 0 || l.Type == Unlock || l.Check() != nil {
			return nil, fmt.Errorf("%w: lock %v", ErrCorrupt, l)
		}
		s = append(s, l)
	}
	return s, nil
}
