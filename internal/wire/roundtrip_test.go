package wire

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/meta"
)

// sample is one message to encode, with the value decoding must give
// (want, when it differs from msg: the wire does not tell a nil slice
// from an empty one).
type sample struct {
	name string
	op   Op
	msg  Message
	want Message
}

func (s sample) wanted() Message {
	if s.want != nil {
		return s.want
	}
	return s.msg
}

// blank returns a new, empty message of m's type.
func blank(m Message) Message {
	return reflect.New(reflect.TypeOf(m).Elem()).Interface().(Message)
}

var testCaller = meta.Caller{UID: 1000, GID: 100, PID: 4242, Groups: []uint32{4, 24, 27}}

var testAttr = meta.Attr{
	Ino: 1<<20 + 7, Mode: 0o100644, Nlink: 2, UID: 1000, GID: 100, Rdev: 3,
	Size: 123456789, Atime: 1_700_000_000_123_456_789, Mtime: 1_700_000_001_000_000_000, Ctime: -5,
}

// populated returns a message of m's type with every field set.
func populated(t testing.TB, m Message) Message {
	t.Helper()
	switch m.(type) {
	case *Hello:
		return &Hello{MinVersion: MinVersion, MaxVersion: Version, Session: 77, Next: 12, Client: "host-a:1234"}
	case *HelloReply:
		return &HelloReply{Version: Version, Session: 77, Resumed: true, LeasePeriod: int64(30 * time.Second), BlockSize: 4 << 20, Volume: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", Data: "s3://bucket/vol?endpoint=http://127.0.0.1:9000"}
	case *Empty:
		return &Empty{}
	case *Inos:
		return &Inos{Inos: []uint64{1, 2, math.MaxUint64}}
	case *RecallAck:
		return &RecallAck{Recall: 99}
	case *Compound:
		return &Compound{Calls: []SubCall{
			{Op: OpGetAttr, Payload: Append(nil, &Ino{Ino: 5})},
			{Op: OpLookup, Payload: Append(nil, &Entry{C: testCaller, Parent: 1, Name: "x"})},
		}}
	case *CompoundReply:
		return &CompoundReply{Replies: [][]byte{
			AppendReply(nil, 0, "", &AttrReply{Attr: testAttr}),
			AppendReply(nil, 2, "no such entry", nil),
		}}
	case *Entry:
		return &Entry{C: testCaller, Parent: 1, Name: "hello.txt"}
	case *Ino:
		return &Ino{Ino: 1 << 40}
	case *AttrReply:
		return &AttrReply{Attr: testAttr}
	case *Entered:
		parent := testAttr
		parent.Ino, parent.Mode = 1, 0o40755
		return &Entered{Attr: testAttr, Parent: parent}
	case *Parents:
		return &Parents{Attrs: []meta.Attr{testAttr, {Ino: 1, Mode: 0o40700, Nlink: 3, UID: 1, GID: 1, Rdev: 1, Size: 1, Atime: 1, Mtime: 1, Ctime: 1}}}
	case *SetAttr:
		return &SetAttr{C: testCaller, Ino: 9, In: meta.SetAttrIn{Valid: meta.SetMode | meta.SetSize, Mode: 0o755, UID: 1, GID: 2, Size: 4096, Atime: 3, Mtime: 4, Ctime: 5}}
	case *Delegate:
		return &Delegate{Dir: 1 << 33, Want: 1024}
	case *Delegation:
		dir := testAttr
		dir.Mode = 0o42775
		return &Delegation{First: 1 << 20, N: 1024, Dir: dir}
	case *MakeAs:
		return &MakeAs{Make: Make{C: testCaller, Parent: 7, Name: "new.txt", Mode: 0o100644, Rdev: 1, Flags: 0o101, Umask: 0o022, Target: "t"},
			Ino: 1<<20 + 3, Time: 1_700_000_000_123_456_789, Closed: true}
	case *CreateBatch:
		return &CreateBatch{Items: []MakeAs{
			{Make: Make{C: testCaller, Parent: 7, Name: "a", Mode: 0o644, Rdev: 1, Flags: 1, Umask: 0o022, Target: "t"}, Ino: 1 << 20, Time: 1, Closed: true},
			{Make: Make{C: testCaller, Parent: 7, Name: "b", Mode: 0o600}, Ino: 1<<20 + 1, Time: 2, Closed: true},
		}}
	case *BatchReply:
		return &BatchReply{Errnos: []uint32{0, 28}, Reasons: []string{"", "no space left on device"}}
	case *Make:
		return &Make{C: testCaller, Parent: 1, Name: "link", Mode: 0o120777, Rdev: 0x0801, Flags: 0o100, Umask: 0o022, Target: "../target/file"}
	case *Text:
		return &Text{S: "../target/file"}
	case *Link:
		return &Link{C: testCaller, Ino: 12, NewParent: 3, NewName: "alias"}
	case *Rename:
		return &Rename{C: testCaller, OldParent: 1, OldName: "a", NewParent: 2, NewName: "b", Flags: meta.RenameExchange}
	case *InoOp:
		return &InoOp{C: testCaller, Ino: 12, N: 0o2}
	case *Bool:
		return &Bool{V: true}
	case *ReadDir:
		return &ReadDir{C: testCaller, Ino: 1, Cookie: 17, Max: 128, Plus: true}
	case *DirEntries:
		a := testAttr
		return &DirEntries{Entries: []meta.DirEntry{
			{Name: ".", Ino: 1, Mode: 0o040000, Cookie: 1},
			{Name: "file", Ino: a.Ino, Mode: a.Mode, Cookie: 2, Attr: &a},
		}}
	case *Xattr:
		return &Xattr{C: testCaller, Ino: 12, Name: "user.mime", Value: []byte("text/plain"), Flags: 1}
	case *Data:
		return &Data{B: []byte{0, 1, 2, 0xff}}
	case *Names:
		return &Names{Names: []string{"user.a", "security.selinux"}}
	case *StatFSReply:
		return &StatFSReply{S: meta.StatFS{Files: 1000, Bytes: 1 << 33}}
	case *Fallocate:
		return &Fallocate{C: testCaller, Ino: 12, Mode: 1, Off: 4096, Length: 1 << 20}
	case *GetLayout:
		return &GetLayout{Ino: 12, First: 3, Count: 16}
	case *Blocks:
		return &Blocks{Blocks: testBlocks()}
	case *U64:
		return &U64{V: 1 << 50}
	case *CommitWrite:
		return &CommitWrite{Ino: 12, W: chunk.Write{Blocks: testBlocks(), Size: 5 << 20, Mtime: 1_700_000_002_000_000_000, KillSUID: true}}
	case *BlobPut:
		return &BlobPut{Key: chunk.ObjectKey(0xabcdef), Data: []byte("object bytes")}
	case *BlobGet:
		return &BlobGet{Key: chunk.ObjectKey(0xabcdef), Off: 100, Length: -1}
	case *BlobList:
		return &BlobList{Prefix: "blocks/", After: "blocks/00/", Max: 1000}
	case *Objects:
		return &Objects{Objects: []blob.Object{
			{Key: chunk.ObjectKey(1), Size: 4 << 20, ModTime: time.Unix(0, 1_700_000_000_000_000_001)},
			{Key: chunk.ObjectKey(2), Size: 0, ModTime: time.Unix(0, 0)},
		}, More: true}
	case *Recall:
		return &Recall{Items: []RecallItem{
			{Ino: 1, What: ChangedAttr | ChangedData, Names: []string{"added", "removed"}},
			{Ino: 2, What: ChangedGone},
		}}
	}
	if l := populatedLock(m); l != nil {
		return l
	}
	t.Fatalf("no populated sample for %T: add one", m)
	return nil
}

func testBlocks() []chunk.Block {
	return []chunk.Block{
		{Index: 0, Pieces: []chunk.Piece{{Obj: 10, ObjOff: 0, Off: 0, Len: 4096}, {Obj: 11, ObjOff: 512, Off: 4096, Len: 100}}},
		{Index: 7},
		{Index: math.MaxUint64, Pieces: []chunk.Piece{{Obj: math.MaxUint64, ObjOff: math.MaxUint32, Off: 1, Len: math.MaxUint32}}},
	}
}

// opSamples returns a populated request, reply and push for every op that
// has one.
func opSamples(t testing.TB) []sample {
	t.Helper()
	var ss []sample
	for _, op := range Ops() {
		if m := Request(op); m != nil {
			ss = append(ss, sample{name: op.String() + "/request", op: op, msg: populated(t, m)})
		}
		if m := Reply(op); m != nil {
			ss = append(ss, sample{name: op.String() + "/reply", op: op, msg: populated(t, m)})
		}
		if m := Push(op); m != nil {
			ss = append(ss, sample{name: op.String() + "/push", op: op, msg: populated(t, m)})
		}
	}
	return ss
}

// edgeSamples are the extremes every field must carry.
func edgeSamples() []sample {
	long := func(n int) string { return strings.Repeat("n", n) }
	maxAttr := meta.Attr{
		Ino: math.MaxUint64, Mode: math.MaxUint32, Nlink: math.MaxUint32, UID: math.MaxUint32, GID: math.MaxUint32,
		Rdev: math.MaxUint32, Size: math.MaxUint64, Atime: math.MinInt64, Mtime: math.MaxInt64, Ctime: -1,
	}
	groups := make([]uint32, MaxGroups)
	for i := range groups {
		groups[i] = uint32(i)
	}
	bigCaller := meta.Caller{UID: math.MaxUint32, GID: math.MaxUint32, PID: math.MaxUint32, Groups: groups}
	return []sample{
		{name: "zero hello", op: OpHello, msg: &Hello{}},
		{name: "hello client at limit", op: OpHello, msg: &Hello{MinVersion: math.MaxUint16, MaxVersion: math.MaxUint16, Session: math.MaxUint64, Next: math.MaxUint64, Client: long(MaxClient)}},
		{name: "hello reply volume at limit", op: OpHello, msg: &HelloReply{Version: math.MaxUint16, Session: math.MaxUint64, LeasePeriod: math.MinInt64, BlockSize: math.MaxUint32, Volume: long(MaxName)}},
		{name: "entry empty name", op: OpLookup, msg: &Entry{}},
		{name: "entry name at limit", op: OpLookup, msg: &Entry{C: testCaller, Parent: math.MaxUint64, Name: long(MaxName)}},
		{name: "groups at limit", op: OpLookup, msg: &Entry{C: bigCaller, Parent: math.MaxUint64, Name: "g"}},
		{name: "empty groups decode as nil", op: OpLookup,
			msg:  &Entry{C: meta.Caller{UID: 1, Groups: []uint32{}}, Name: "a"},
			want: &Entry{C: meta.Caller{UID: 1}, Name: "a"}},
		{name: "max attr", op: OpGetAttr, msg: &AttrReply{Attr: maxAttr}},
		{name: "max ino", op: OpGetAttr, msg: &Ino{Ino: math.MaxUint64}},
		{name: "setattr extremes", op: OpSetAttr, msg: &SetAttr{C: meta.Caller{UID: math.MaxUint32, GID: math.MaxUint32, PID: math.MaxUint32}, Ino: math.MaxUint64, In: meta.SetAttrIn{
			Valid: math.MaxUint32, Mode: math.MaxUint32, UID: math.MaxUint32, GID: math.MaxUint32,
			Size: math.MaxUint64, Atime: math.MinInt64, Mtime: math.MaxInt64, Ctime: -1}}},
		{name: "tmpfile empty name", op: OpTmpfile, msg: &Make{C: testCaller, Parent: 1, Mode: 0o100600}},
		{name: "symlink name and target at limit", op: OpSymlink, msg: &Make{Name: long(MaxName), Target: long(MaxPath), Mode: math.MaxUint32, Rdev: math.MaxUint32, Flags: math.MaxUint32, Umask: math.MaxUint32}},
		{name: "readlink target at limit", op: OpReadlink, msg: &Text{S: long(MaxPath)}},
		{name: "readlink empty", op: OpReadlink, msg: &Text{}},
		{name: "link name at limit", op: OpLink, msg: &Link{Ino: math.MaxUint64, NewParent: math.MaxUint64, NewName: long(MaxName)}},
		{name: "rename names at limit", op: OpRename, msg: &Rename{OldParent: math.MaxUint64, OldName: long(MaxName), NewParent: math.MaxUint64, NewName: long(MaxName), Flags: math.MaxUint32}},
		{name: "accessed false", op: OpAccessed, msg: &Bool{}},
		{name: "readdir not plus", op: OpReadDir, msg: &ReadDir{Ino: 1, Cookie: math.MaxUint64, Max: math.MaxUint32}},
		{name: "no dir entries", op: OpReadDir, msg: &DirEntries{}},
		{name: "empty dir entries decode as nil", op: OpReadDir, msg: &DirEntries{Entries: []meta.DirEntry{}}, want: &DirEntries{}},
		{name: "dir entries attr nil and set", op: OpReadDir, msg: &DirEntries{Entries: []meta.DirEntry{
			{Name: long(MaxName), Ino: math.MaxUint64, Mode: math.MaxUint32, Cookie: math.MaxUint64},
			{Name: "", Attr: &maxAttr},
			{Name: "z", Attr: &meta.Attr{}},
		}}},
		{name: "xattr nil value decodes empty", op: OpGetXattr, msg: &Xattr{Name: "user.a"}, want: &Xattr{Name: "user.a", Value: []byte{}}},
		{name: "xattr value at limit", op: OpSetXattr, msg: &Xattr{Name: long(MaxName), Value: bytes.Repeat([]byte{0xa5}, MaxXattrValue), Flags: math.MaxUint32}},
		{name: "data empty", op: OpGetXattr, msg: &Data{B: []byte{}}},
		{name: "names with empty and at limit", op: OpListXattr, msg: &Names{Names: []string{"", long(MaxName)}}},
		{name: "statfs max", op: OpStatFS, msg: &StatFSReply{S: meta.StatFS{Files: math.MaxUint64, Bytes: math.MaxUint64}}},
		{name: "fallocate max", op: OpFallocate, msg: &Fallocate{Ino: math.MaxUint64, Mode: math.MaxUint32, Off: math.MaxUint64, Length: math.MaxUint64}},
		{name: "layout max", op: OpGetLayout, msg: &GetLayout{Ino: math.MaxUint64, First: math.MaxUint64, Count: math.MaxUint64}},
		{name: "no blocks", op: OpGetLayout, msg: &Blocks{}},
		{name: "block with empty pieces decodes nil", op: OpGetLayout,
			msg:  &Blocks{Blocks: []chunk.Block{{Index: 1, Pieces: []chunk.Piece{}}}},
			want: &Blocks{Blocks: []chunk.Block{{Index: 1}}}},
		{name: "commit empty", op: OpCommitWrite, msg: &CommitWrite{W: chunk.Write{Mtime: math.MinInt64}}},
		{name: "new ids max", op: OpNewObjectIDs, msg: &U64{V: math.MaxUint64}},
		{name: "blob delete", op: OpBlobDelete, msg: &BlobPut{Key: chunk.ObjectKey(math.MaxUint64)}, want: &BlobPut{Key: chunk.ObjectKey(math.MaxUint64), Data: []byte{}}},
		{name: "blob key at limit", op: OpBlobPut, msg: &BlobPut{Key: long(MaxKey), Data: []byte{0}}},
		{name: "blob get extremes", op: OpBlobGet, msg: &BlobGet{Key: long(MaxKey), Off: math.MaxInt64, Length: math.MinInt64}},
		{name: "blob list empty", op: OpBlobList, msg: &BlobList{}},
		{name: "objects times", op: OpBlobList, msg: &Objects{Objects: []blob.Object{
			{Key: long(MaxKey), Size: math.MaxInt64, ModTime: time.Unix(0, math.MaxInt64)},
			{Key: "", Size: -1, ModTime: time.Unix(0, math.MinInt64)},
		}}},
		{name: "no objects", op: OpBlobList, msg: &Objects{More: true}},
		{name: "forget none", op: OpForget, msg: &Inos{}},
		{name: "compound empty", op: OpCompound, msg: &Compound{}},
		{name: "compound empty payload decodes empty", op: OpCompound,
			msg:  &Compound{Calls: []SubCall{{Op: OpSync}, {Op: Op(math.MaxUint16), Payload: []byte{}}}},
			want: &Compound{Calls: []SubCall{{Op: OpSync, Payload: []byte{}}, {Op: Op(math.MaxUint16), Payload: []byte{}}}}},
		{name: "compound reply empty payloads", op: OpCompound, msg: &CompoundReply{Replies: [][]byte{{}, {}}}},
		{name: "recall every flag", op: OpRecall, msg: &Recall{Items: []RecallItem{
			{Ino: math.MaxUint64, What: changedAll, Names: []string{long(MaxName), ""}},
			{What: 0},
		}}},
	}
}

func allSamples(t testing.TB) []sample {
	return append(opSamples(t), edgeSamples()...)
}

func TestRoundTrip(t *testing.T) {
	for _, s := range allSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			prefix := []byte("prefix")
			enc := Append(append([]byte(nil), prefix...), s.msg)
			if !bytes.HasPrefix(enc, prefix) {
				t.Fatalf("Append overwrote dst")
			}
			enc = enc[len(prefix):]
			got := blank(s.msg)
			if err := Decode(enc, got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, s.wanted()) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, s.wanted())
			}
			// The encoding is canonical: what decodes re-encodes to the
			// same bytes.
			if re := Append(nil, got); !bytes.Equal(re, enc) {
				t.Fatalf("re-encoding differs:\n got %x\nwant %x", re, enc)
			}
		})
	}
}

// TestSamplesPopulated keeps populated honest: every field of every
// sample, and of the structs inside them, is set, so a field added to a
// message is round-tripped only once its sample sets it too.
func TestSamplesPopulated(t *testing.T) {
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		for i := range v.NumField() {
			f, name := v.Field(i), path+"."+v.Type().Field(i).Name
			if f.IsZero() {
				t.Errorf("%s is not set: give it a value in populated", name)
			}
			if f.Kind() == reflect.Struct {
				check(name, f)
			}
		}
	}
	for _, s := range opSamples(t) {
		v := reflect.ValueOf(s.msg).Elem()
		check(s.name+" "+v.Type().Name(), v)
	}
}

// TestDecodeReused decodes into a message that already holds a decoded
// value: the result must be what a fresh message gets, with nothing left
// over from before (a reused DirEntries must not keep the last page).
func TestDecodeReused(t *testing.T) {
	for _, s := range opSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			m := blank(s.msg)
			if err := Decode(Append(nil, s.msg), m); err != nil {
				t.Fatalf("Decode populated: %v", err)
			}
			zero := Append(nil, blank(s.msg))
			fresh := blank(s.msg)
			if err := Decode(zero, fresh); err != nil {
				t.Fatalf("Decode zero into fresh: %v", err)
			}
			if err := Decode(zero, m); err != nil {
				t.Fatalf("Decode zero into used: %v", err)
			}
			if !reflect.DeepEqual(m, fresh) {
				t.Fatalf("reused message kept old fields:\n got %+v\nwant %+v", m, fresh)
			}
		})
	}
}

// TestFixedLayouts pins the sizes of the fixed-width encodings: changing
// one changes the protocol and needs a new Version.
func TestFixedLayouts(t *testing.T) {
	tests := []struct {
		msg  Message
		size int
	}{
		{&Ino{}, 8},
		{&AttrReply{}, attrSize},
		{&Entered{}, 2 * attrSize},
		{&StatFSReply{}, 16},
		{&GetLayout{}, 24},
		{&U64{}, 8},
		{&Bool{}, 1},
		{&Empty{}, 0},
		{&RecallAck{}, 8},
		{&Hello{}, 2 + 2 + 8 + 8 + 4},
		{&HelloReply{}, 2 + 8 + 1 + 8 + 4 + 4 + 4},
		{&Blocks{Blocks: []chunk.Block{{Pieces: make([]chunk.Piece, 1)}}}, 4 + 12 + pieceSize},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T", tt.msg), func(t *testing.T) {
			if got := len(Append(nil, tt.msg)); got != tt.size {
				t.Fatalf("encoded size %d, want %d", got, tt.size)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	ops := Ops()
	seen := map[Op]bool{}
	for i, op := range ops {
		if i > 0 && ops[i-1] >= op {
			t.Errorf("Ops not ascending at %v", op)
		}
		seen[op] = true
		if op.String() == fmt.Sprintf("op%d", uint16(op)) {
			t.Errorf("op %d has no name", uint16(op))
		}
		req, rep, push := Request(op), Reply(op), Push(op)
		if (req == nil) == (push == nil) {
			t.Errorf("%v: want exactly one of Request and Push, got %T and %T", op, req, push)
		}
		if (req != nil) != (rep != nil) {
			t.Errorf("%v: a Call has a Reply and a Push none, got request %T reply %T", op, req, rep)
		}
	}
	if len(ops) != len(opNames) {
		t.Errorf("Ops has %d ops, opNames %d", len(ops), len(opNames))
	}
	for o := 0; o <= math.MaxUint16; o++ {
		op := Op(o)
		if seen[op] {
			continue
		}
		if Request(op) != nil || Reply(op) != nil || Push(op) != nil {
			t.Errorf("op %d is not in Ops but has messages", o)
		}
	}
	for _, tt := range []struct {
		op   Op
		want string
	}{{OpGetAttr, "getattr"}, {OpBlobSync, "blob_sync"}, {OpRecall, "recall"}, {0, "op0"}, {opMetaEnd, "op45"}, {999, "op999"}} {
		if got := tt.op.String(); got != tt.want {
			t.Errorf("Op(%d).String() = %q, want %q", uint16(tt.op), got, tt.want)
		}
	}
}
