package wire

import (
	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/chunk"
)

// GetLayout asks for Count blocks of Ino from First.
type GetLayout struct {
	Ino, First, Count uint64
}

func (m *GetLayout) Encode(e *Encoder) { e.U64(m.Ino); e.U64(m.First); e.U64(m.Count) }
func (m *GetLayout) Decode(d *Decoder) { m.Ino, m.First, m.Count = d.U64(), d.U64(), d.U64() }

// Blocks is GetLayout's reply.
type Blocks struct {
	Blocks []chunk.Block
}

func (m *Blocks) Encode(e *Encoder) { encodeBlocks(e, m.Blocks) }
func (m *Blocks) Decode(d *Decoder) { m.Blocks = decodeBlocks(d) }

// U64 is a number: NewObjectIDs' count (request) and first id (reply).
type U64 struct {
	V uint64
}

func (m *U64) Encode(e *Encoder) { e.U64(m.V) }
func (m *U64) Decode(d *Decoder) { m.V = d.U64() }

// CommitWrite commits uploaded pieces.
type CommitWrite struct {
	Ino uint64
	W   chunk.Write
}

func (m *CommitWrite) Encode(e *Encoder) {
	e.U64(m.Ino)
	encodeBlocks(e, m.W.Blocks)
	e.U64(m.W.Size)
	e.I64(m.W.Mtime)
	e.Bool(m.W.KillSUID)
}

func (m *CommitWrite) Decode(d *Decoder) {
	m.Ino = d.U64()
	m.W.Blocks = decodeBlocks(d)
	m.W.Size, m.W.Mtime, m.W.KillSUID = d.U64(), d.I64(), d.Bool()
}

// BlobPut stores an object; BlobDelete (Data empty) removes one.
type BlobPut struct {
	Key  string
	Data []byte
}

func (m *BlobPut) Encode(e *Encoder) { e.String(m.Key); e.Bytes32(m.Data) }
func (m *BlobPut) Decode(d *Decoder) {
	m.Key = d.String(MaxKey)
	m.Data = d.Bytes32()
}

// BlobGet reads Length bytes (negative: to the end) at Off.
type BlobGet struct {
	Key         string
	Off, Length int64
}

func (m *BlobGet) Encode(e *Encoder) { e.String(m.Key); e.I64(m.Off); e.I64(m.Length) }
func (m *BlobGet) Decode(d *Decoder) {
	m.Key = d.String(MaxKey)
	m.Off, m.Length = d.I64(), d.I64()
	if m.Off < 0 {
		d.Fail("negative offset %d", m.Off)
	}
}

// BlobList lists up to Max objects under Prefix with keys after After.
type BlobList struct {
	Prefix, After string
	Max           uint32
}

func (m *BlobList) Encode(e *Encoder) { e.String(m.Prefix); e.String(m.After); e.U32(m.Max) }
func (m *BlobList) Decode(d *Decoder) {
	m.Prefix, m.After = d.String(MaxKey), d.String(MaxKey)
	m.Max = d.U32()
}

// Objects is BlobList's reply; More says a later call finds more.
type Objects struct {
	Objects []blob.Object
	More    bool
}

func (m *Objects) Encode(e *Encoder) {
	e.U32(uint32(len(m.Objects)))
	for _, o := range m.Objects {
		encodeObject(e, o)
	}
	e.Bool(m.More)
}

func (m *Objects) Decode(d *Decoder) {
	n := d.Count(4 + 16)
	m.Objects = nil
	if n > 0 {
		m.Objects = make([]blob.Object, n)
		for i := range m.Objects {
			m.Objects[i] = decodeObject(d)
		}
	}
	m.More = d.Bool()
}
