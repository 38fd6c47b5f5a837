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
