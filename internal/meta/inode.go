package meta

import (
	"encoding/binary"
	"syscall"
)

// inode is the stored form of an inode.
type inode struct {
	Attr
	Parent uint64 // directories: the parent directory; others: 0
	Flags  uint32 // inodeLinkable
	Target string // symlinks: the link target
}

// Inode flags.
const (
	inodeLinkable = 1 << iota // an O_TMPFILE file: nameless, yet Link may name it
	inodeXattrs               // has (or had) extended attributes
)

const inodeVersion = 1

const inodeFixedLen = 1 + 4*5 + 8 + 8*3 + 8 + 4

func (n *inode) encode() []byte {
	b := make([]byte, 0, inodeFixedLen+len(n.Target)+4)
	b = append(b, inodeVersion)
	b = binary.LittleEndian.AppendUint32(b, n.Mode)
	b = binary.LittleEndian.AppendUint32(b, n.Nlink)
	b = binary.LittleEndian.AppendUint32(b, n.UID)
	b = binary.LittleEndian.AppendUint32(b, n.GID)
	b = binary.LittleEndian.AppendUint32(b, n.Rdev)
	b = binary.LittleEndian.AppendUint64(b, n.Size)
	b = binary.LittleEndian.AppendUint64(b, uint64(n.Atime))
	b = binary.LittleEndian.AppendUint64(b, uint64(n.Mtime))
	b = binary.LittleEndian.AppendUint64(b, uint64(n.Ctime))
	b = binary.LittleEndian.AppendUint64(b, n.Parent)
	b = binary.LittleEndian.AppendUint32(b, n.Flags)
	return append(b, n.Target...)
}

func decodeInode(ino uint64, b []byte) (*inode, error) {
	if len(b) < inodeFixedLen || b[0] != inodeVersion {
		return nil, errCorrupt
	}
	le := binary.LittleEndian
	n := &inode{}
	n.Ino = ino
	n.Mode = le.Uint32(b[1:])
	n.Nlink = le.Uint32(b[5:])
	n.UID = le.Uint32(b[9:])
	n.GID = le.Uint32(b[13:])
	n.Rdev = le.Uint32(b[17:])
	n.Size = le.Uint64(b[21:])
	n.Atime = int64(le.Uint64(b[29:]))
	n.Mtime = int64(le.Uint64(b[37:]))
	n.Ctime = int64(le.Uint64(b[45:]))
	n.Parent = le.Uint64(b[53:])
	n.Flags = le.Uint32(b[61:])
	n.Target = string(b[inodeFixedLen:])
	return n, nil
}

func (n *inode) fileType() uint32 { return n.Mode & syscall.S_IFMT }
func (n *inode) isDir() bool      { return n.fileType() == syscall.S_IFDIR }
func (n *inode) isReg() bool      { return n.fileType() == syscall.S_IFREG }

// dirent is the stored form of a directory entry.
type dirent struct {
	Ino  uint64
	Type uint32 // S_IFMT bits of the child
}

func (d dirent) encode() []byte {
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, 16), d.Ino)
	return binary.LittleEndian.AppendUint32(b, d.Type)
}

func decodeDirent(b []byte) (dirent, error) {
	if len(b) != 12 {
		return dirent{}, errCorrupt
	}
	return dirent{Ino: binary.LittleEndian.Uint64(b), Type: binary.LittleEndian.Uint32(b[8:])}, nil
}

// usage is the stored form of the usage counters: the base record holds
// totals, delta records (written blind by mutations, so that no
// transaction reads a shared counter) hold changes, folded into the base
// from time to time.
type usage struct {
	Files int64
	Bytes int64
	Upto  uint64 // base only: deltas with ids up to this are folded in
}

func (u usage) encode() []byte {
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, 24), uint64(u.Files))
	b = binary.LittleEndian.AppendUint64(b, uint64(u.Bytes))
	return binary.LittleEndian.AppendUint64(b, u.Upto)
}

func decodeUsage(b []byte) (usage, error) {
	if len(b) != 24 {
		return usage{}, errCorrupt
	}
	le := binary.LittleEndian
	return usage{Files: int64(le.Uint64(b)), Bytes: int64(le.Uint64(b[8:])), Upto: le.Uint64(b[16:])}, nil
}
