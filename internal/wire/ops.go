package wire

import "fmt"

// Op names what a frame asks or says.
type Op uint16

// Session ops.
const (
	OpHello     Op = 1 // first Call of a connection: version and session
	OpHeartbeat Op = 2 // renews the session; carries the client's oldest unanswered call id
	OpForget    Op = 3 // the client's kernel forgot inodes: drop their leases
	OpRecallAck Op = 4 // the client applied a recall
	OpCompound  Op = 5 // several Calls in one frame, answered in one Reply
	OpRecall    Op = 6 // Push: inodes changed, invalidate them, then ack
	OpBye       Op = 7 // the client ends its session: its leases and opens go at once
	// OpReclaimed: after a reconnect that did not resume its session, the
	// client said again what it holds open (OpHold); the service's grace
	// period need not wait for it any longer.
	OpReclaimed Op = 8
)

// Metadata ops: one per method of the metadata service.
const (
	OpLookup Op = 16 + iota
	OpGetAttr
	OpSetAttr
	OpMknod
	OpMkdir
	OpCreate
	OpTmpfile
	OpSymlink
	OpReadlink
	OpLink
	OpUnlink
	OpRmdir
	OpRename
	OpOpen
	OpRelease
	OpAccessed
	OpHold
	OpAccess
	OpReadDir
	OpGetXattr
	OpListXattr
	OpSetXattr
	OpRemoveXattr
	OpStatFS
	OpFallocate
	OpSync
	// OpDelegate asks for an exclusive delegation on a directory and a
	// range of inode numbers to create in it without asking (deleg.go).
	OpDelegate
	// OpCreateAs is a create the client already answered under its
	// delegation: the inode number and the time are its.
	OpCreateAs
	// OpCreateBatch is creates the client answered under its delegation
	// and closed since, made in one transaction.
	OpCreateBatch
	opMetaEnd
)

// Data path ops: file layouts and objects.
const (
	OpGetLayout Op = 64 + iota
	OpNewObjectIDs
	OpCommitWrite
	OpBlobPut
	OpBlobGet
	OpBlobDelete
	OpBlobList
	OpBlobSync
	opDataEnd
)

var opNames = map[Op]string{
	OpHello: "hello", OpHeartbeat: "heartbeat", OpForget: "forget", OpRecallAck: "recall_ack",
	OpCompound: "compound", OpRecall: "recall", OpBye: "bye", OpReclaimed: "reclaimed",
	OpLookup: "lookup", OpGetAttr: "getattr", OpSetAttr: "setattr", OpMknod: "mknod",
	OpMkdir: "mkdir", OpCreate: "create", OpTmpfile: "tmpfile", OpSymlink: "symlink",
	OpReadlink: "readlink", OpLink: "link", OpUnlink: "unlink", OpRmdir: "rmdir",
	OpRename: "rename", OpOpen: "open", OpRelease: "release", OpAccessed: "accessed",
	OpHold: "hold", OpAccess: "access", OpReadDir: "readdir", OpGetXattr: "getxattr",
	OpListXattr: "listxattr", OpSetXattr: "setxattr", OpRemoveXattr: "removexattr",
	OpStatFS: "statfs", OpFallocate: "fallocate", OpSync: "sync", OpDelegate: "delegate",
	OpCreateAs: "create_as", OpCreateBatch: "create_batch",
	OpGetLayout: "get_layout", OpNewObjectIDs: "new_object_ids", OpCommitWrite: "commit_write",
	OpBlobPut: "blob_put", OpBlobGet: "blob_get", OpBlobDelete: "blob_delete",
	OpBlobList: "blob_list", OpBlobSync: "blob_sync",
}

func (o Op) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("op%d", uint16(o))
}

// Ops returns every op, in ascending order.
func Ops() []Op {
	var ops []Op
	for o := OpHello; o <= OpReclaimed; o++ {
		ops = append(ops, o)
	}
	for o := OpLookup; o < opMetaEnd; o++ {
		ops = append(ops, o)
	}
	for o := OpGetLayout; o < opDataEnd; o++ {
		ops = append(ops, o)
	}
	ops = append(ops, lockOps()...)
	return ops
}

// Message is a payload: a request, a reply or a push.
type Message interface {
	Encode(e *Encoder)
	// Decode reads the message's fields; failures stick in d.
	Decode(d *Decoder)
}

// Decode decodes p into m, requiring every byte to be used.
func Decode(p []byte, m Message) error {
	d := NewDecoder(p)
	m.Decode(d)
	return d.Finish()
}

// Append appends m's encoding to dst.
func Append(dst []byte, m Message) []byte {
	e := Encoder{b: dst}
	m.Encode(&e)
	return e.b
}
