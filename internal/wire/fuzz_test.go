package wire

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fuzzMaxFrame is FuzzFrame's limit: small, so that the fuzzer reaches
// both sides of it.
const fuzzMaxFrame = 1 << 12

// FuzzFrame reads frames from arbitrary bytes. ReadFrame must not panic;
// a refused header must cost the header's bytes only; and the frames it
// returns must re-encode to exactly the bytes they were read from.
func FuzzFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var re []byte
		for {
			before := r.Len()
			h, p, err := ReadFrame(r, fuzzMaxFrame)
			used := before - r.Len()
			if err != nil {
				switch {
				case err == io.EOF:
					if before != 0 {
						t.Fatalf("io.EOF with %d bytes left", before)
					}
				case err == io.ErrUnexpectedEOF:
					if r.Len() != 0 {
						t.Fatalf("io.ErrUnexpectedEOF with %d bytes left", r.Len())
					}
				case errors.Is(err, ErrFrameTooLarge), errors.Is(err, ErrMalformed):
					if used != HeaderSize {
						t.Fatalf("refused frame (%v) read %d bytes, want the header only", err, used)
					}
				default:
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if HeaderSize+len(p) > fuzzMaxFrame {
				t.Fatalf("frame of %d bytes over the limit %d", HeaderSize+len(p), fuzzMaxFrame)
			}
			re = AppendFrame(re, h, p)
			if consumed := data[:len(data)-r.Len()]; !bytes.Equal(re, consumed) {
				t.Fatalf("re-encoded frames differ from the bytes read:\n got %x\nwant %x", re, consumed)
			}
		}
	})
}

// FuzzMessages decodes arbitrary payloads as the request, reply and push
// of an op. Decoding must not panic; what decodes must re-encode to the
// same bytes and decode again to an equal message.
func FuzzMessages(f *testing.F) {
	f.Fuzz(func(t *testing.T, op uint16, payload []byte) {
		o := Op(op)
		for _, m := range []Message{Request(o), Reply(o), Push(o)} {
			if m == nil {
				continue
			}
			if err := Decode(payload, m); err != nil {
				if !IsMalformed(err) {
					t.Fatalf("%v %T: error %v is not ErrMalformed", o, m, err)
				}
				continue
			}
			enc := Append(nil, m)
			if !bytes.Equal(enc, payload) {
				t.Fatalf("%v %T: re-encoding differs:\n got %x\nwant %x", o, m, enc, payload)
			}
			again := blank(m)
			if err := Decode(enc, again); err != nil {
				t.Fatalf("%v %T: re-encoding does not decode: %v", o, m, err)
			}
			if !reflect.DeepEqual(m, again) {
				t.Fatalf("%v %T: second decoding differs:\n got %+v\nwant %+v", o, m, again, m)
			}
		}
		rep := Reply(o)
		if rep == nil {
			return
		}
		var re *RemoteError
		switch err := DecodeReply(o, payload, rep); {
		case err == nil:
			if enc := AppendReply(nil, 0, "", rep); !bytes.Equal(enc, payload) {
				t.Fatalf("%v: ok reply re-encodes differently", o)
			}
		case errors.As(err, &re):
			if re.Errno == 0 || re.Op != o {
				t.Fatalf("%v: bad remote error %+v", o, re)
			}
			if enc := AppendReply(nil, re.Errno, re.Reason, nil); !bytes.Equal(enc, payload) {
				t.Fatalf("%v: error reply re-encodes differently", o)
			}
		case !IsMalformed(err):
			t.Fatalf("%v: DecodeReply error %v is neither remote nor malformed", o, err)
		}
	})
}

// corpus reads the seed corpus of a fuzz target: each file's values, in
// the `go test fuzz v1` format, as Go literals.
func corpus(t *testing.T, target string) map[string][]string {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]string{}
	for _, ent := range ents {
		b, err := os.ReadFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a corpus file", ent.Name())
		}
		files[ent.Name()] = lines[1:]
	}
	return files
}

// literal parses a corpus value of the form typ(...).
func literal(t *testing.T, name, line, typ string) string {
	t.Helper()
	s, ok := strings.CutPrefix(line, typ+"(")
	if !ok || !strings.HasSuffix(s, ")") {
		t.Fatalf("%s: %q is not a %s", name, line, typ)
	}
	return s[:len(s)-1]
}

func corpusBytes(t *testing.T, name, line string) []byte {
	t.Helper()
	s, err := strconv.Unquote(literal(t, name, line, "[]byte"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return []byte(s)
}

// TestFuzzCorpus checks that the seed corpus still holds a valid encoding
// of every op's messages: a layout change that breaks them must come with
// a new corpus.
func TestFuzzCorpus(t *testing.T) {
	type want struct {
		op   Op
		kind string
	}
	need := map[want]bool{}
	for _, op := range Ops() {
		if Request(op) != nil {
			need[want{op, "request"}] = true
		}
		if Reply(op) != nil {
			need[want{op, "reply"}] = true
		}
		if Push(op) != nil {
			need[want{op, "push"}] = true
		}
	}

	t.Run("FuzzMessages", func(t *testing.T) {
		missing := maps.Clone(need)
		for name, vals := range corpus(t, "FuzzMessages") {
			if len(vals) != 2 {
				t.Fatalf("%s: %d values, want op and payload", name, len(vals))
			}
			n, err := strconv.ParseUint(literal(t, name, vals[0], "uint16"), 0, 16)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			op, p := Op(n), corpusBytes(t, name, vals[1])
			for kind, m := range map[string]Message{"request": Request(op), "reply": Reply(op), "push": Push(op)} {
				if m != nil && Decode(p, m) == nil {
					delete(missing, want{op, kind})
				}
			}
		}
		for w := range missing {
			t.Errorf("no valid %s of %v in the FuzzMessages corpus", w.kind, w.op)
		}
	})

	t.Run("FuzzFrame", func(t *testing.T) {
		missing := maps.Clone(need)
		for name, vals := range corpus(t, "FuzzFrame") {
			if len(vals) != 1 {
				t.Fatalf("%s: %d values, want one", name, len(vals))
			}
			r := bytes.NewReader(corpusBytes(t, name, vals[0]))
			for {
				h, p, err := ReadFrame(r, fuzzMaxFrame)
				if err != nil {
					break
				}
				var kind string
				var m Message
				switch h.Kind {
				case KindCall:
					kind, m = "request", Request(h.Op)
					if m != nil && Decode(p, m) == nil {
						delete(missing, want{h.Op, kind})
					}
				case KindReply:
					kind, m = "reply", Reply(h.Op)
					if m != nil && DecodeReply(h.Op, p, m) == nil {
						delete(missing, want{h.Op, kind})
					}
				case KindPush:
					kind, m = "push", Push(h.Op)
					if m != nil && Decode(p, m) == nil {
						delete(missing, want{h.Op, kind})
					}
				}
			}
		}
		for w := range missing {
			t.Errorf("no valid %s frame of %v in the FuzzFrame corpus", w.kind, w.op)
		}
	})
}
