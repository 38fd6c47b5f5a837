package wire

// File lock ops (flock and fcntl), coordinated by the service across its
// clients.
const (
	// OpGetLk asks which lock stands in the way of a lock (F_GETLK).
	OpGetLk Op = 96 + iota
	// OpSetLk takes, converts or releases a lock without waiting; a
	// conflict is EAGAIN. With Lk.Wait the service remembers that the
	// session waits, and pushes OpLocksChanged when the inode's locks
	// change: a blocking lock is a retry of OpSetLk at each push.
	OpSetLk
	// OpLocksChanged (Push, Ino) says that the locks of an inode the
	// session waited on changed: try again.
	OpLocksChanged
	opLockEnd
)

func init() {
	opNames[OpGetLk] = "getlk"
	opNames[OpSetLk] = "setlk"
	opNames[OpLocksChanged] = "locks_changed"
}

// lockOps are the lock ops, for Ops.
func lockOps() []Op {
	var ops []Op
	for o := OpGetLk; o < opLockEnd; o++ {
		ops = append(ops, o)
	}
	return ops
}

func lockRequest(op Op) Message {
	switch op {
	case OpGetLk, OpSetLk:
		return &Lk{}
	}
	return nil
}

func lockPush(op Op) Message {
	if op == OpLocksChanged {
		return &Ino{}
	}
	return nil
}

// Lock types on the wire: locks.Type's values.
const (
	LockRead   = 1
	LockWrite  = 2
	LockUnlock = 3
)

// Lk is a lock request of a lock owner (the kernel's id: a process for
// POSIX locks, an open file description for flock) on an inode: the
// bytes [Start, End], End included.
type Lk struct {
	Ino        uint64
	Owner      uint64
	Start, End uint64
	Pid        uint32
	Type       uint8 // LockRead, LockWrite, LockUnlock
	Flock      bool  // flock(2): the whole file, per open file description
	Wait       bool  // OpSetLk: the caller will wait for a conflict to go
}

func (m *Lk) Encode(e *Encoder) {
	e.U64(m.Ino)
	e.U64(m.Owner)
	e.U64(m.Start)
	e.U64(m.End)
	e.U32(m.Pid)
	e.U8(m.Type)
	e.Bool(m.Flock)
	e.Bool(m.Wait)
}

func (m *Lk) Decode(d *Decoder) {
	m.Ino, m.Owner, m.Start, m.End, m.Pid = d.U64(), d.U64(), d.U64(), d.U64(), d.U32()
	m.Type, m.Flock, m.Wait = d.U8(), d.Bool(), d.Bool()
}

// LkReply answers OpGetLk: the lock in the way, or Type LockUnlock if
// none is. Pid is the holder's process id when it is of the asking
// session, else 0 (a process id of another machine means nothing here).
type LkReply struct {
	Start, End uint64
	Pid        uint32
	Type       uint8
}

func (m *LkReply) Encode(e *Encoder) {
	e.U64(m.Start)
	e.U64(m.End)
	e.U32(m.Pid)
	e.U8(m.Type)
}

func (m *LkReply) Decode(d *Decoder) {
	m.Start, m.End, m.Pid, m.Type = d.U64(), d.U64(), d.U32(), d.U8()
}
