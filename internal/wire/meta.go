package wire

import "github.com/ferryfs/ferry/internal/meta"

// Entry names a directory entry on behalf of a caller: Lookup, Unlink and
// Rmdir requests.
type Entry struct {
	C      meta.Caller
	Parent uint64
	Name   string
}

func (m *Entry) Encode(e *Encoder) { encodeCaller(e, m.C); e.U64(m.Parent); e.String(m.Name) }
func (m *Entry) Decode(d *Decoder) {
	m.C, m.Parent = decodeCaller(d), d.U64()
	m.Name = d.String(MaxName)
}

// Ino names an inode: GetAttr, Readlink, Release, Accessed and Hold.
type Ino struct {
	Ino uint64
}

func (m *Ino) Encode(e *Encoder) { e.U64(m.Ino) }
func (m *Ino) Decode(d *Decoder) { m.Ino = d.U64() }

// AttrReply carries an inode's attributes.
type AttrReply struct {
	Attr meta.Attr
}

func (m *AttrReply) Encode(e *Encoder) { encodeAttr(e, m.Attr) }
func (m *AttrReply) Decode(d *Decoder) { m.Attr = decodeAttr(d) }

// SetAttr changes attributes.
type SetAttr struct {
	C   meta.Caller
	Ino uint64
	In  meta.SetAttrIn
}

func (m *SetAttr) Encode(e *Encoder) { encodeCaller(e, m.C); e.U64(m.Ino); encodeSetAttrIn(e, m.In) }
func (m *SetAttr) Decode(d *Decoder) {
	m.C, m.Ino = decodeCaller(d), d.U64()
	m.In = decodeSetAttrIn(d)
}

// Make creates a name: Mknod (Mode, Rdev), Mkdir (Mode), Create (Mode,
// Flags), Tmpfile (Mode; Name empty) and Symlink (Target).
type Make struct {
	C      meta.Caller
	Parent uint64
	Name   string
	Mode   uint32
	Rdev   uint32
	Flags  uint32
	Umask  uint32 // the caller's umask, applied unless the parent has a default ACL
	Target string
}

func (m *Make) Encode(e *Encoder) {
	encodeCaller(e, m.C)
	e.U64(m.Parent)
	e.String(m.Name)
	e.U32(m.Mode)
	e.U32(m.Rdev)
	e.U32(m.Flags)
	e.U32(m.Umask)
	e.String(m.Target)
}

func (m *Make) Decode(d *Decoder) {
	m.C, m.Parent = decodeCaller(d), d.U64()
	m.Name = d.String(MaxName)
	m.Mode, m.Rdev, m.Flags, m.Umask = d.U32(), d.U32(), d.U32(), d.U32()
	m.Target = d.String(MaxPath)
}

// Text is a string reply: Readlink's target.
type Text struct {
	S string
}

func (m *Text) Encode(e *Encoder) { e.String(m.S) }
func (m *Text) Decode(d *Decoder) { m.S = d.String(MaxPath) }

// Link makes a new name for Ino.
type Link struct {
	C         meta.Caller
	Ino       uint64
	NewParent uint64
	NewName   string
}

func (m *Link) Encode(e *Encoder) {
	encodeCaller(e, m.C)
	e.U64(m.Ino)
	e.U64(m.NewParent)
	e.String(m.NewName)
}
func (m *Link) Decode(d *Decoder) {
	m.C, m.Ino, m.NewParent = decodeCaller(d), d.U64(), d.U64()
	m.NewName = d.String(MaxName)
}

// Rename moves a name, with renameat2(2) flags.
type Rename struct {
	C         meta.Caller
	OldParent uint64
	OldName   string
	NewParent uint64
	NewName   string
	Flags     uint32
}

func (m *Rename) Encode(e *Encoder) {
	encodeCaller(e, m.C)
	e.U64(m.OldParent)
	e.String(m.OldName)
	e.U64(m.NewParent)
	e.String(m.NewName)
	e.U32(m.Flags)
}

func (m *Rename) Decode(d *Decoder) {
	m.C, m.OldParent = decodeCaller(d), d.U64()
	m.OldName = d.String(MaxName)
	m.NewParent = d.U64()
	m.NewName = d.String(MaxName)
	m.Flags = d.U32()
}

// InoOp is an inode, a caller and a number: Open (open flags), Access
// (mask).
type InoOp struct {
	C   meta.Caller
	Ino uint64
	N   uint32
}

func (m *InoOp) Encode(e *Encoder) { encodeCaller(e, m.C); e.U64(m.Ino); e.U32(m.N) }
func (m *InoOp) Decode(d *Decoder) { m.C, m.Ino, m.N = decodeCaller(d), d.U64(), d.U32() }

// Bool is a yes/no reply: Accessed.
type Bool struct {
	V bool
}

func (m *Bool) Encode(e *Encoder) { e.Bool(m.V) }
func (m *Bool) Decode(d *Decoder) { m.V = d.Bool() }

// ReadDir lists a directory from Cookie.
type ReadDir struct {
	C      meta.Caller
	Ino    uint64
	Cookie uint64
	Max    uint32
	Plus   bool
}

func (m *ReadDir) Encode(e *Encoder) {
	encodeCaller(e, m.C)
	e.U64(m.Ino)
	e.U64(m.Cookie)
	e.U32(m.Max)
	e.Bool(m.Plus)
}

func (m *ReadDir) Decode(d *Decoder) {
	m.C, m.Ino, m.Cookie, m.Max, m.Plus = decodeCaller(d), d.U64(), d.U64(), d.U32(), d.Bool()
}

// DirEntries is ReadDir's reply.
type DirEntries struct {
	Entries []meta.DirEntry
}

func (m *DirEntries) Encode(e *Encoder) {
	e.U32(uint32(len(m.Entries)))
	for _, de := range m.Entries {
		e.String(de.Name)
		e.U64(de.Ino)
		e.U32(de.Mode)
		e.U64(de.Cookie)
		e.Bool(de.Attr != nil)
		if de.Attr != nil {
			encodeAttr(e, *de.Attr)
		}
	}
}

func (m *DirEntries) Decode(d *Decoder) {
	n := d.Count(4 + 8 + 4 + 8 + 1)
	if n == 0 {
		m.Entries = nil
		return
	}
	m.Entries = make([]meta.DirEntry, n)
	for i := range m.Entries {
		de := &m.Entries[i]
		de.Name = d.String(MaxName)
		de.Ino, de.Mode, de.Cookie = d.U64(), d.U32(), d.U64()
		if d.Bool() {
			a := decodeAttr(d)
			de.Attr = &a
		}
		if d.Err() != nil {
			m.Entries = nil
			return
		}
	}
}

// Xattr is an extended attribute request: GetXattr (Name), ListXattr,
// SetXattr (Name, Value, Flags), RemoveXattr (Name).
type Xattr struct {
	C     meta.Caller
	Ino   uint64
	Name  string
	Value []byte
	Flags uint32
}

func (m *Xattr) Encode(e *Encoder) {
	encodeCaller(e, m.C)
	e.U64(m.Ino)
	e.String(m.Name)
	e.Bytes32(m.Value)
	e.U32(m.Flags)
}

func (m *Xattr) Decode(d *Decoder) {
	m.C, m.Ino = decodeCaller(d), d.U64()
	m.Name = d.String(MaxName)
	m.Value = d.Bytes32()
	if len(m.Value) > MaxXattrValue {
		d.Fail("xattr value of %d bytes", len(m.Value))
	}
	m.Flags = d.U32()
}

// Data is a byte string reply: GetXattr's value, BlobGet's bytes.
type Data struct {
	B []byte
}

func (m *Data) Encode(e *Encoder) { e.Bytes32(m.B) }
func (m *Data) Decode(d *Decoder) { m.B = d.Bytes32() }

// Names is ListXattr's reply.
type Names struct {
	Names []string
}

func (m *Names) Encode(e *Encoder) { encodeStrings(e, m.Names) }
func (m *Names) Decode(d *Decoder) { m.Names = decodeStrings(d, MaxName) }

// StatFSReply is StatFS's reply.
type StatFSReply struct {
	S meta.StatFS
}

func (m *StatFSReply) Encode(e *Encoder) { e.U64(m.S.Files); e.U64(m.S.Bytes) }
func (m *StatFSReply) Decode(d *Decoder) { m.S.Files, m.S.Bytes = d.U64(), d.U64() }

// Fallocate reserves a range.
type Fallocate struct {
	C           meta.Caller
	Ino         uint64
	Mode        uint32
	Off, Length uint64
}

func (m *Fallocate) Encode(e *Encoder) {
	encodeCaller(e, m.C)
	e.U64(m.Ino)
	e.U32(m.Mode)
	e.U64(m.Off)
	e.U64(m.Length)
}

func (m *Fallocate) Decode(d *Decoder) {
	m.C, m.Ino, m.Mode, m.Off, m.Length = decodeCaller(d), d.U64(), d.U32(), d.U64(), d.U64()
}

// Entered answers a call that made a name (mknod, mkdir, create,
// symlink, link): the inode's attributes and, after the change, those of
// the directory the name is in (Ino 0 if they could not be read), which
// the client may keep under its lease instead of asking again.
type Entered struct {
	Attr   meta.Attr
	Parent meta.Attr
}

func (m *Entered) Encode(e *Encoder) { encodeAttr(e, m.Attr); encodeAttr(e, m.Parent) }
func (m *Entered) Decode(d *Decoder) { m.Attr, m.Parent = decodeAttr(d), decodeAttr(d) }

// Parents answers unlink, rmdir and rename: the attributes of the
// directories they changed, after the change.
type Parents struct {
	Attrs []meta.Attr
}

func (m *Parents) Encode(e *Encoder) {
	e.U32(uint32(len(m.Attrs)))
	for _, a := range m.Attrs {
		encodeAttr(e, a)
	}
}

func (m *Parents) Decode(d *Decoder) {
	n := d.Count(attrSize)
	m.Attrs = nil
	if n == 0 {
		return
	}
	m.Attrs = make([]meta.Attr, n)
	for i := range m.Attrs {
		m.Attrs[i] = decodeAttr(d)
	}
}
