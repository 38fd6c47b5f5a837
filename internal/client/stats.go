package client

import (
	"sync/atomic"

	"github.com/ferryfs/ferry/internal/wire"
)

// LocalAnswers counts the requests the client answered itself, without a
// round trip to the service, because its lease covered the answer
// (cache.go): lookups of names its listing of a directory says are
// absent, directory attributes it kept from its own change, and missing
// extended attributes.
type LocalAnswers struct {
	Lookups, GetAttrs, GetXattrs uint64
}

// maxCountedOp bounds the ops whose calls are counted one by one; the
// rest (none today) are counted under op 0.
const maxCountedOp = 128

type localCounts struct {
	lookups, getattrs, getxattrs atomic.Uint64
	calls                        [maxCountedOp]atomic.Uint64 // calls made, per op
}

func (l *localCounts) called(op wire.Op) {
	if op >= maxCountedOp {
		op = 0
	}
	l.calls[op].Add(1)
}

// LocalAnswers returns the counts so far.
func (c *Client) LocalAnswers() LocalAnswers {
	return LocalAnswers{
		Lookups:   c.local.lookups.Load(),
		GetAttrs:  c.local.getattrs.Load(),
		GetXattrs: c.local.getxattrs.Load(),
	}
}

// Calls returns how many calls of op the client made to the service (a
// call made again after its session was replaced counts once); op 0
// counts the ops beyond the table.
func (c *Client) Calls(op wire.Op) uint64 {
	if op >= maxCountedOp {
		return 0
	}
	return c.local.calls[op].Load()
}
