package meta

import (
	"encoding/binary"
	"hash/crc32"
	"hash/fnv"
	"syscall"
)

// Key space. Every key starts with a one-byte table tag; integers are
// big-endian so that keys sort numerically.
//
//	S                         volume record (Super)
//	N <name>                  id counters ("ino", "obj")
//	U                         usage counters (files, bytes): base
//	U <id>                    usage delta of one transaction
//	I <ino>                   inode
//	D <parent> <hash> <name>  directory entry; hash orders readdir
//	B <ino> <block>           pieces of one data block
//	X <ino> <name>            extended attribute
//	O <ino>                   orphan: nlink 0, still open
//	G <obj>                   garbage object to delete
const (
	tagSuper   = 'S'
	tagCounter = 'N'
	tagUsage   = 'U'
	tagInode   = 'I'
	tagDirent  = 'D'
	tagBlock   = 'B'
	tagXattr   = 'X'
	tagOrphan  = 'O'
	tagGarbage = 'G'
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func u64key(tag byte, n uint64) []byte {
	k := make([]byte, 9, 9+8+8)
	k[0] = tag
	binary.BigEndian.PutUint64(k[1:], n)
	return k
}

func inodeKey(ino uint64) []byte     { return u64key(tagInode, ino) }
func orphanKey(ino uint64) []byte    { return u64key(tagOrphan, ino) }
func garbageKey(o uint64) []byte     { return u64key(tagGarbage, o) }
func superKey() []byte               { return []byte{tagSuper} }
func usageKey() []byte               { return []byte{tagUsage} }
func usageDeltaKey(id uint64) []byte { return u64key(tagUsage, id) }
func counterKey(name string) []byte {
	return append([]byte{tagCounter}, name...)
}

// nameHash orders entries within a directory; a readdir cookie is
// nameHash+cookieBase so that cookies 0..2 stay free for the start, "." and "..".
func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64() >> 2
}

const cookieBase = 3

func direntPrefix(parent uint64) []byte { return u64key(tagDirent, parent) }

func direntKeyHash(parent, hash uint64) []byte {
	k := direntPrefix(parent)
	return binary.BigEndian.AppendUint64(k, hash)
}

func direntKey(parent uint64, name string) []byte {
	return append(direntKeyHash(parent, nameHash(name)), name...)
}

func blockPrefix(ino uint64) []byte { return u64key(tagBlock, ino) }

func blockKey(ino, block uint64) []byte {
	return binary.BigEndian.AppendUint64(blockPrefix(ino), block)
}

func xattrPrefix(ino uint64) []byte { return u64key(tagXattr, ino) }

func xattrKey(ino uint64, name string) []byte {
	return append(xattrPrefix(ino), name...)
}

// seal appends a CRC-32C of key and payload, so that a record that was
// damaged, or written under another key, is detected when it is read.
func seal(key, payload []byte) []byte {
	c := crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, payload)
	return binary.LittleEndian.AppendUint32(payload, c)
}

// errCorrupt is the kind of a record that fails its checksum.
var errCorrupt = syscall.EIO

// unseal verifies and strips the checksum seal added.
func unseal(key, value []byte) ([]byte, error) {
	if len(value) < 4 {
		return nil, errCorrupt
	}
	payload := value[:len(value)-4]
	want := binary.LittleEndian.Uint32(value[len(value)-4:])
	if crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, payload) != want {
		return nil, errCorrupt
	}
	return payload, nil
}
