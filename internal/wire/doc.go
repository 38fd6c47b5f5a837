// Package wire is Ferry's protocol between `ferry mount` (the client) and
// `ferry serve` (the service): frames, message types and their encoding.
// It does no I/O of its own beyond reading and writing frames on a
// caller's reader and writer; sessions, pipelining and recalls are
// package rpc's.
//
// # Frames
//
// Every frame is a 16-byte header and a payload:
//
//	u32 length   bytes after this field: 12 header bytes + payload
//	u8  kind     Call (client → service), Reply (service → client),
//	             Push (service → client, unsolicited: a recall)
//	u8  flags    zero; reserved
//	u16 op       what a Call asks, what a Reply answers, what a Push says
//	u64 id       a Call's id, chosen by the client and unique within
//	             its session; a Reply carries its Call's id; a Push its
//	             recall id
//
// All integers are little-endian. A frame whose length is below the
// header or above the reader's limit is refused before anything is
// allocated for it (ErrFrameTooLarge, ErrMalformed), and the payload is
// read in pieces of at most 1 MiB as it arrives, so a peer that announces
// a large frame and sends nothing costs one piece, not the frame.
//
// # Payloads
//
// A payload is a fixed sequence of fields in the order the message's
// Encode writes them: fixed-width integers, and byte strings prefixed by a
// u32 length. There is no reflection and no schema negotiation: the
// protocol Version, agreed by Hello, fixes every layout. A Reply's payload
// starts with a u32 errno; zero is followed by the reply message, anything
// else by a one-line reason.
//
// The encoding was chosen by measurement (codec_bench_test.go): the
// hand-written codec against encoding/gob and encoding/json for a getattr
// request and reply.
//
// Decoders never panic, and what they allocate is bounded by the bytes
// they were given: every length and count is checked against what remains
// before anything is made for it. A decoded list can still take a few
// times its encoding in memory (about 6× at most, for a list of empty byte
// strings; TestDecodeAllocation checks it). They are fuzzed (FuzzFrame,
// FuzzMessages) with a seed corpus in testdata/fuzz.
package wire
