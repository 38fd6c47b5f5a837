package wire

// Request returns a new, empty request message for op, or nil if op is
// not a Call.
func Request(op Op) Message {
	switch op {
	case OpHello:
		return &Hello{}
	case OpBye, OpReclaimed, OpStatFS, OpSync, OpBlobSync:
		return &Empty{}
	case OpForget:
		return &Inos{}
	case OpRecallAck:
		return &RecallAck{}
	case OpCompound:
		return &Compound{}
	case OpLookup, OpUnlink, OpRmdir:
		return &Entry{}
	case OpGetAttr, OpReadlink, OpRelease, OpAccessed, OpHold:
		return &Ino{}
	case OpSetAttr:
		return &SetAttr{}
	case OpMknod, OpMkdir, OpCreate, OpTmpfile, OpSymlink:
		return &Make{}
	case OpLink:
		return &Link{}
	case OpRename:
		return &Rename{}
	case OpOpen, OpAccess:
		return &InoOp{}
	case OpReadDir:
		return &ReadDir{}
	case OpGetXattr, OpListXattr, OpSetXattr, OpRemoveXattr:
		return &Xattr{}
	case OpFallocate:
		return &Fallocate{}
	case OpDelegate:
		return &Delegate{}
	case OpCreateAs:
		return &MakeAs{}
	case OpCreateBatch:
		return &CreateBatch{}
	case OpGetLayout:
		return &GetLayout{}
	case OpNewObjectIDs, OpHeartbeat:
		return &U64{}
	case OpCommitWrite:
		return &CommitWrite{}
	case OpBlobPut, OpBlobDelete:
		return &BlobPut{}
	case OpBlobGet:
		return &BlobGet{}
	case OpBlobList:
		return &BlobList{}
	}
	return lockRequest(op)
}

// Reply returns a new, empty reply message for op (the message after a
// zero errno), or nil if op has no Reply.
func Reply(op Op) Message {
	switch op {
	case OpHello:
		return &HelloReply{}
	case OpCompound:
		return &CompoundReply{}
	case OpLookup, OpGetAttr, OpSetAttr, OpTmpfile, OpOpen:
		return &AttrReply{}
	case OpMknod, OpMkdir, OpCreate, OpSymlink, OpLink, OpCreateAs:
		return &Entered{}
	case OpDelegate:
		return &Delegation{}
	case OpCreateBatch:
		return &BatchReply{}
	case OpUnlink, OpRmdir, OpRename:
		return &Parents{}
	case OpReadlink:
		return &Text{}
	case OpAccessed:
		return &Bool{}
	case OpReadDir:
		return &DirEntries{}
	case OpGetXattr, OpBlobGet:
		return &Data{}
	case OpListXattr:
		return &Names{}
	case OpStatFS:
		return &StatFSReply{}
	case OpGetLayout:
		return &Blocks{}
	case OpNewObjectIDs:
		return &U64{}
	case OpBlobList:
		return &Objects{}
	case OpRecall:
		return nil
	case OpGetLk:
		return &LkReply{}
	}
	if Request(op) != nil {
		return &Empty{}
	}
	return nil
}

// Push returns a new, empty message for a Push of op, or nil.
func Push(op Op) Message {
	if op == OpRecall {
		return &Recall{}
	}
	return lockPush(op)
}
