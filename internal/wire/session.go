package wire

// Hello opens or resumes a session. It is the first Call of every
// connection; the service answers HelloReply or an error and closes.
type Hello struct {
	MinVersion, MaxVersion uint16
	Session                uint64 // 0: a new session; else the one to resume
	// Next is the id of the client's next new call: a call with a lower
	// id on this connection may be one sent before, whose reply was lost.
	Next   uint64
	Client string // host name and pid, for logs
}

func (m *Hello) Encode(e *Encoder) {
	e.U16(m.MinVersion)
	e.U16(m.MaxVersion)
	e.U64(m.Session)
	e.U64(m.Next)
	e.String(m.Client)
}

func (m *Hello) Decode(d *Decoder) {
	m.MinVersion, m.MaxVersion, m.Session, m.Next = d.U16(), d.U16(), d.U64(), d.U64()
	m.Client = d.String(MaxClient)
}

// HelloReply accepts a session.
type HelloReply struct {
	Version     uint16
	Session     uint64
	Resumed     bool   // the session and its leases survived; else the client starts over
	LeasePeriod int64  // nanoseconds: renew well within this
	BlockSize   uint32 // the volume's block size
	Volume      string // the volume's uuid
	// Data is the address of the volume's object store, for clients
	// that can reach it to read and write objects themselves (an
	// s3:// URL, without credentials); empty when objects are reached
	// only through the service.
	Data string
}

func (m *HelloReply) Encode(e *Encoder) {
	e.U16(m.Version)
	e.U64(m.Session)
	e.Bool(m.Resumed)
	e.I64(m.LeasePeriod)
	e.U32(m.BlockSize)
	e.String(m.Volume)
	e.String(m.Data)
}

func (m *HelloReply) Decode(d *Decoder) {
	m.Version, m.Session, m.Resumed, m.LeasePeriod, m.BlockSize = d.U16(), d.U64(), d.Bool(), d.I64(), d.U32()
	m.Volume = d.String(MaxName)
	m.Data = d.String(MaxPath)
}

// Empty is a message without fields.
type Empty struct{}

func (*Empty) Encode(*Encoder) {}
func (*Empty) Decode(*Decoder) {}

// Inos lists inodes: OpForget's request.
type Inos struct {
	Inos []uint64
}

func (m *Inos) Encode(e *Encoder) { encodeU64s(e, m.Inos) }
func (m *Inos) Decode(d *Decoder) { m.Inos = decodeU64s(d) }

// RecallAck acknowledges the Push of recall Recall.
type RecallAck struct {
	Recall uint64
}

func (m *RecallAck) Encode(e *Encoder) { e.U64(m.Recall) }
func (m *RecallAck) Decode(d *Decoder) { m.Recall = d.U64() }

// What a recall says changed about an inode.
const (
	ChangedAttr = 1 << 0 // attributes (mode, owner, times, size, links, xattrs)
	ChangedData = 1 << 1 // contents: cached pages and objects are stale
	ChangedGone = 1 << 2 // the inode no longer exists
	// FlushData asks a client that writes the file to commit what it
	// buffered before it acknowledges: another client is opening it.
	FlushData = 1 << 3
	// ReturnDelegation asks the holder of a directory's delegation to
	// have every create it answered under it answered by the service,
	// and to give the delegation up, before it acknowledges: another
	// client is about to look at the directory.
	ReturnDelegation = 1 << 4
	changedAll       = ChangedAttr | ChangedData | ChangedGone | FlushData | ReturnDelegation
)

// RecallItem is one changed inode: what changed and, for a directory,
// which names in it were added, removed or replaced.
type RecallItem struct {
	Ino   uint64
	What  uint8
	Names []string
}

// Recall is a Push: the inodes changed; the client invalidates what its
// kernel caches of them and sends RecallAck with the frame's id.
type Recall struct {
	Items []RecallItem
}

func (m *Recall) Encode(e *Encoder) {
	e.U32(uint32(len(m.Items)))
	for _, it := range m.Items {
		e.U64(it.Ino)
		e.U8(it.What)
		encodeStrings(e, it.Names)
	}
}

func (m *Recall) Decode(d *Decoder) {
	n := d.Count(13)
	if n == 0 {
		m.Items = nil
		return
	}
	m.Items = make([]RecallItem, n)
	for i := range m.Items {
		it := &m.Items[i]
		it.Ino, it.What = d.U64(), d.U8()
		if it.What&^changedAll != 0 {
			d.Fail("recall flags %#x", it.What)
		}
		it.Names = decodeStrings(d, MaxName)
		if d.Err() != nil {
			m.Items = nil
			return
		}
	}
}

// SubCall is one Call inside a Compound.
type SubCall struct {
	Op      Op
	Payload []byte
}

// Compound carries several Calls in one frame. The service runs them in
// order and answers each, in one CompoundReply; a failed Call does not
// stop the ones after it. Compounds do not nest.
type Compound struct {
	Calls []SubCall
}

func (m *Compound) Encode(e *Encoder) {
	e.U32(uint32(len(m.Calls)))
	for _, c := range m.Calls {
		e.U16(uint16(c.Op))
		e.Bytes32(c.Payload)
	}
}

func (m *Compound) Decode(d *Decoder) {
	n := d.Count(6)
	if n == 0 {
		m.Calls = nil
		return
	}
	m.Calls = make([]SubCall, n)
	for i := range m.Calls {
		m.Calls[i].Op = Op(d.U16())
		if m.Calls[i].Op == OpCompound || m.Calls[i].Op == OpHello {
			d.Fail("%v inside a compound", m.Calls[i].Op)
		}
		m.Calls[i].Payload = d.Bytes32()
	}
	if d.Err() != nil {
		m.Calls = nil
	}
}

// CompoundReply answers a Compound: one reply payload per Call, each as a
// Reply's payload (errno first).
type CompoundReply struct {
	Replies [][]byte
}

func (m *CompoundReply) Encode(e *Encoder) {
	e.U32(uint32(len(m.Replies)))
	for _, r := range m.Replies {
		e.Bytes32(r)
	}
}

func (m *CompoundReply) Decode(d *Decoder) {
	n := d.Count(4)
	if n == 0 {
		m.Replies = nil
		return
	}
	m.Replies = make([][]byte, n)
	for i := range m.Replies {
		m.Replies[i] = d.Bytes32()
	}
	if d.Err() != nil {
		m.Replies = nil
	}
}
