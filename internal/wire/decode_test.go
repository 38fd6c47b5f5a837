package wire

import (
	"bytes"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/meta"
)

// cuts returns the lengths to truncate an encoding of n bytes at: all of
// them for small encodings; for large ones both ends in full and a stride
// through the middle.
func cuts(n int) []int {
	const edge = 4096
	var cs []int
	for i := 0; i < n; i++ {
		if n <= 2*edge || i < edge || i >= n-edge || i%997 == 0 {
			cs = append(cs, i)
		}
	}
	return cs
}

func TestTruncated(t *testing.T) {
	for _, s := range allSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			enc := Append(nil, s.msg)
			for _, i := range cuts(len(enc)) {
				// No spare capacity: a read past the end cannot see the
				// rest of the encoding.
				p := enc[:i:i]
				if err := Decode(p, blank(s.msg)); !IsMalformed(err) {
					t.Fatalf("truncated to %d of %d bytes: Decode = %v, want ErrMalformed", i, len(enc), err)
				}
				if Reply(s.op) != nil && len(enc) <= 1<<13 {
					rp := AppendReply(nil, 0, "", nil)
					rp = append(rp, p...)
					if err := DecodeReply(s.op, rp, blank(s.msg)); !IsMalformed(err) {
						t.Fatalf("reply truncated to %d of %d bytes: DecodeReply = %v", i, len(enc), err)
					}
				}
			}
		})
	}
}

func TestTrailing(t *testing.T) {
	for _, s := range allSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			enc := Append(nil, s.msg)
			for _, extra := range [][]byte{{0}, {0xff}, make([]byte, 9)} {
				err := Decode(append(bytes.Clone(enc), extra...), blank(s.msg))
				if !IsMalformed(err) || !strings.Contains(err.Error(), "trailing") {
					t.Fatalf("%d trailing bytes: Decode = %v, want a trailing-bytes ErrMalformed", len(extra), err)
				}
			}
		})
	}
}

// TestRejects: values the encoder writes but the decoder must refuse.
func TestRejects(t *testing.T) {
	over := func(n int) string { return strings.Repeat("o", n+1) }
	tests := []struct {
		name string
		msg  Message
	}{
		{"hello client", &Hello{Client: over(MaxClient)}},
		{"hello reply volume", &HelloReply{Volume: over(MaxName)}},
		{"hello reply data", &HelloReply{Data: over(MaxPath)}},
		{"entry name", &Entry{Name: over(MaxName)}},
		{"too many groups", &Entry{C: meta.Caller{Groups: make([]uint32, MaxGroups+1)}}},
		{"make name", &Make{Name: over(MaxName)}},
		{"make target", &Make{Target: over(MaxPath)}},
		{"text", &Text{S: over(MaxPath)}},
		{"link name", &Link{NewName: over(MaxName)}},
		{"rename old name", &Rename{OldName: over(MaxName)}},
		{"rename new name", &Rename{NewName: over(MaxName)}},
		{"dir entry name", &DirEntries{Entries: []meta.DirEntry{{Name: over(MaxName)}}}},
		{"xattr name", &Xattr{Name: over(MaxName)}},
		{"xattr value", &Xattr{Value: make([]byte, MaxXattrValue+1)}},
		{"xattr names", &Names{Names: []string{"ok", over(MaxName)}}},
		{"blob put key", &BlobPut{Key: over(MaxKey)}},
		{"blob get key", &BlobGet{Key: over(MaxKey)}},
		{"blob get negative offset", &BlobGet{Off: -1}},
		{"blob get min offset", &BlobGet{Off: math.MinInt64}},
		{"blob list prefix", &BlobList{Prefix: over(MaxKey)}},
		{"blob list after", &BlobList{After: over(MaxKey)}},
		{"object key", &Objects{Objects: []blob.Object{{Key: over(MaxKey)}}}},
		{"recall unknown flag", &Recall{Items: []RecallItem{{What: (changedAll + 1) &^ changedAll}}}},
		{"recall top flag", &Recall{Items: []RecallItem{{What: 0x80}}}},
		{"recall all bits", &Recall{Items: []RecallItem{{What: 0xff}}}},
		{"recall name", &Recall{Items: []RecallItem{{Names: []string{over(MaxName)}}}}},
		{"compound in compound", &Compound{Calls: []SubCall{{Op: OpSync}, {Op: OpCompound}}}},
		{"hello in compound", &Compound{Calls: []SubCall{{Op: OpHello}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Decode(Append(nil, tt.msg), blank(tt.msg)); !IsMalformed(err) {
				t.Fatalf("Decode = %v, want ErrMalformed", err)
			}
		})
	}
}

// TestBoolBytes: every bool field takes 0 and 1 only.
func TestBoolBytes(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		at   func(enc []byte) int // offset of the bool byte
	}{
		{"bool", &Bool{V: true}, func([]byte) int { return 0 }},
		{"readdir plus", &ReadDir{Plus: true}, func(enc []byte) int { return len(enc) - 1 }},
		{"hello reply resumed", &HelloReply{Resumed: true}, func([]byte) int { return 10 }},
		{"commit kill suid", &CommitWrite{W: chunk.Write{KillSUID: true}}, func(enc []byte) int { return len(enc) - 1 }},
		{"objects more", &Objects{More: true}, func(enc []byte) int { return len(enc) - 1 }},
		{"dir entry attr", &DirEntries{Entries: []meta.DirEntry{{Attr: &meta.Attr{}}}}, func([]byte) int { return 4 + 4 + 8 + 4 + 8 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := Append(nil, tt.msg)
			at := tt.at(enc)
			if enc[at] != 1 {
				t.Fatalf("byte %d is %d, not the bool", at, enc[at])
			}
			for _, v := range []byte{2, 3, 0x80, 0xff} {
				p := bytes.Clone(enc)
				p[at] = v
				if err := Decode(p, blank(tt.msg)); !IsMalformed(err) {
					t.Fatalf("bool byte %d: Decode = %v, want ErrMalformed", v, err)
				}
			}
		})
	}
}

// TestHugeCounts: a count the payload cannot hold fails before anything
// is allocated for it.
func TestHugeCounts(t *testing.T) {
	count := func(prefix []byte, n uint32, rest int) []byte {
		e := NewEncoder(bytes.Clone(prefix))
		e.U32(n)
		return append(e.Bytes(), make([]byte, rest)...)
	}
	callerHead := make([]byte, 12) // uid, gid, pid
	tests := []struct {
		name string
		msg  Message
		p    []byte
	}{
		{"inos", &Inos{}, count(nil, math.MaxUint32, 64)},
		{"inos one short", &Inos{}, count(nil, 8, 63)},
		{"groups", &Entry{}, count(callerHead, math.MaxUint32, 64)},
		{"groups over limit, bytes present", &Entry{}, count(callerHead, MaxGroups+1, 4*(MaxGroups+1)+8+4)},
		{"names", &Names{}, count(nil, math.MaxUint32, 64)},
		{"names one short", &Names{}, count(nil, 17, 64)},
		{"dir entries", &DirEntries{}, count(nil, math.MaxUint32, 64)},
		{"dir entries one short", &DirEntries{}, count(nil, 3, 3*25-1)},
		{"blocks", &Blocks{}, count(nil, math.MaxUint32, 64)},
		{"pieces", &Blocks{}, count(count(nil, 1, 8), math.MaxUint32, 64)},
		{"objects", &Objects{}, count(nil, math.MaxUint32, 64)},
		{"recall", &Recall{}, count(nil, math.MaxUint32, 64)},
		{"compound", &Compound{}, count(nil, math.MaxUint32, 64)},
		{"compound replies", &CompoundReply{}, count(nil, math.MaxUint32, 64)},
		{"bytes", &Data{}, count(nil, math.MaxUint32, 64)},
		{"bytes one short", &Data{}, count(nil, 65, 64)},
		{"string", &Text{}, count(nil, math.MaxUint32, 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := Decode(tt.p, tt.msg)
			runtime.ReadMemStats(&after)
			if !IsMalformed(err) {
				t.Fatalf("Decode = %v, want ErrMalformed", err)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10+uint64(8*len(tt.p)) {
				t.Fatalf("allocated %d bytes refusing a %d-byte payload", d, len(tt.p))
			}
		})
	}
}

// TestDecodeAllocation measures what the decoders allocate per byte of
// payload for the densest lists (elements of minimal encoding): the
// in-memory form of an element is larger than its encoding, but by a
// bounded factor.
func TestDecodeAllocation(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocation")
	}
	const n = 4096
	tests := []Message{
		&Inos{Inos: make([]uint64, n)},
		&Entry{C: meta.Caller{Groups: make([]uint32, n)}},
		&Names{Names: make([]string, n)},
		&Names{Names: slices.Repeat([]string{strings.Repeat("a", MaxName)}, 64)},
		&DirEntries{Entries: make([]meta.DirEntry, n)},
		&DirEntries{Entries: func() []meta.DirEntry {
			es := make([]meta.DirEntry, n)
			for i := range es {
				es[i] = meta.DirEntry{Name: "a", Attr: &meta.Attr{}}
			}
			return es
		}()},
		&Blocks{Blocks: make([]chunk.Block, n)},
		&Blocks{Blocks: []chunk.Block{{Pieces: make([]chunk.Piece, n)}}},
		&Objects{Objects: make([]blob.Object, n)},
		&Recall{Items: make([]RecallItem, n)},
		&Compound{Calls: make([]SubCall, n)},
		&CompoundReply{Replies: make([][]byte, n)},
		&Data{B: make([]byte, 1<<20)},
	}
	for _, m := range tests {
		enc := Append(nil, m)
		t.Run(fmt.Sprintf("%T/%d", m, len(enc)), func(t *testing.T) {
			const runs = 8
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range runs {
				if err := Decode(enc, blank(m)); err != nil {
					t.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			perByte := float64(after.TotalAlloc-before.TotalAlloc) / runs / float64(len(enc))
			t.Logf("%.2f bytes allocated per payload byte", perByte)
			if perByte > 6.5 {
				t.Fatalf("%.2f bytes allocated per payload byte, want at most 6.5 (see doc.go)", perByte)
			}
		})
	}
}
