package wire

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"testing"

	"github.com/ferryfs/ferry/internal/meta"
)

// These benchmarks measure the choice of encoding: one getattr request
// (Ino) and its reply (AttrReply), each encoded and decoded, with this
// package's codec, encoding/gob and encoding/json. Gob is measured as a
// stream would use it (one Encoder and Decoder for the connection, so
// type descriptions are sent once) and one-shot (a new pair per message,
// as a frame-per-message protocol without shared state would need).
//
//	go test -run xxx -bench Codec -benchmem ./internal/wire
//
// Each reports wire-B/msg, the encoded size of one message.

var benchAttr = meta.Attr{
	Ino: 1<<32 + 4711, Mode: 0o100644, Nlink: 1, UID: 1000, GID: 1000,
	Size: 187_392, Atime: 1_764_612_300_123_456_789, Mtime: 1_764_612_290_987_654_321, Ctime: 1_764_612_290_987_654_321,
}

func BenchmarkCodec(b *testing.B) {
	msgs := []struct {
		name string
		msg  func() Message
	}{
		{"getattr_request", func() Message { return &Ino{Ino: benchAttr.Ino} }},
		{"getattr_reply", func() Message { return &AttrReply{Attr: benchAttr} }},
	}
	codecs := []struct {
		name string
		run  func(b *testing.B, in, out Message)
	}{
		{"wire", benchWire},
		{"gob_stream", benchGobStream},
		{"gob_oneshot", benchGobOneShot},
		{"json", benchJSON},
	}
	for _, m := range msgs {
		for _, c := range codecs {
			b.Run(m.name+"/"+c.name, func(b *testing.B) {
				in, out := m.msg(), m.msg()
				c.run(b, in, blank(out))
			})
		}
	}
}

// check fails b unless the last decoding gave back the message.
func check(b *testing.B, in, out Message) {
	b.Helper()
	if !bytes.Equal(Append(nil, in), Append(nil, out)) {
		b.Fatalf("decoded %+v, want %+v", out, in)
	}
}

func benchWire(b *testing.B, in, out Message) {
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], in)
		if err := Decode(buf, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf)), "wire-B/msg")
	check(b, in, out)
}

func benchGobStream(b *testing.B, in, out Message) {
	var buf bytes.Buffer
	enc, dec := gob.NewEncoder(&buf), gob.NewDecoder(&buf)
	// The first message carries the type description: send it before the
	// clock starts, as a long-lived connection would have.
	if err := enc.Encode(in); err != nil {
		b.Fatal(err)
	}
	if err := dec.Decode(out); err != nil {
		b.Fatal(err)
	}
	size := 0
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(in); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
		if err := dec.Decode(out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "wire-B/msg")
	check(b, in, out)
}

func benchGobOneShot(b *testing.B, in, out Message) {
	var buf bytes.Buffer
	size := 0
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := gob.NewEncoder(&buf).Encode(in); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
		if err := gob.NewDecoder(&buf).Decode(out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size), "wire-B/msg")
	check(b, in, out)
}

func benchJSON(b *testing.B, in, out Message) {
	var p []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if p, err = json.Marshal(in); err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(p, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p)), "wire-B/msg")
	check(b, in, out)
}
