package wire

import "github.com/ferryfs/ferry/internal/meta"

// Delegate asks for the delegation of directory Dir and for Want inode
// numbers to create in it.
type Delegate struct {
	Dir  uint64
	Want uint32
}

func (m *Delegate) Encode(e *Encoder) { e.U64(m.Dir); e.U32(m.Want) }
func (m *Delegate) Decode(d *Decoder) { m.Dir, m.Want = d.U64(), d.U32() }

// Delegation grants a delegation: inode numbers First to First+N-1 are
// the client's to create with, and Dir is the directory's attributes now.
type Delegation struct {
	First, N uint64
	Dir      meta.Attr
}

func (m *Delegation) Encode(e *Encoder) { e.U64(m.First); e.U64(m.N); encodeAttr(e, m.Dir) }
func (m *Delegation) Decode(d *Decoder) {
	m.First, m.N = d.U64(), d.U64()
	m.Dir = decodeAttr(d)
}

// MakeAs is a create the client answered itself: Ino is one of its
// delegated inode numbers and Time the new file's times (and the
// directory's, if later than its own). Closed says the client closed the
// file before it sent the create: the service does not count it open.
type MakeAs struct {
	Make   Make
	Ino    uint64
	Time   int64
	Closed bool
}

func (m *MakeAs) Encode(e *Encoder) { m.Make.Encode(e); e.U64(m.Ino); e.I64(m.Time); e.Bool(m.Closed) }
func (m *MakeAs) Decode(d *Decoder) {
	m.Make.Decode(d)
	m.Ino, m.Time, m.Closed = d.U64(), d.I64(), d.Bool()
}

// CreateBatch is creates a client answered itself and whose files it
// closed since (each MakeAs has Closed set): the service makes them in
// one transaction and answers each (BatchReply).
type CreateBatch struct {
	Items []MakeAs
}

// MaxBatch bounds the items of a CreateBatch.
const MaxBatch = 256

func (m *CreateBatch) Encode(e *Encoder) {
	e.U32(uint32(len(m.Items)))
	for i := range m.Items {
		m.Items[i].Encode(e)
	}
}

func (m *CreateBatch) Decode(d *Decoder) {
	n := d.Count(45) // the smallest MakeAs
	if n > MaxBatch {
		d.Fail("batch of %d creates", n)
	}
	if n == 0 || d.Err() != nil {
		m.Items = nil
		return
	}
	m.Items = make([]MakeAs, n)
	for i := range m.Items {
		m.Items[i].Decode(d)
	}
	if d.Err() != nil {
		m.Items = nil
	}
}

// BatchReply answers the items of a CreateBatch in order: errno 0 for
// one made, or its errno and a one-line reason.
type BatchReply struct {
	Errnos  []uint32
	Reasons []string
}

func (m *BatchReply) Encode(e *Encoder) {
	e.U32(uint32(len(m.Errnos)))
	for _, n := range m.Errnos {
		e.U32(n)
	}
	encodeStrings(e, m.Reasons)
}

func (m *BatchReply) Decode(d *Decoder) {
	n := d.Count(4)
	m.Errnos = nil
	if n > 0 && d.Err() == nil {
		m.Errnos = make([]uint32, n)
		for i := range m.Errnos {
			m.Errnos[i] = d.U32()
		}
	}
	m.Reasons = decodeStrings(d, MaxPath)
	if d.Err() != nil {
		m.Errnos, m.Reasons = nil, nil
	}
}
