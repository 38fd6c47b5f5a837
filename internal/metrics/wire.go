package metrics

import (
	"context"
	"encoding/binary"
	"fmt"
	"syscall"
	"time"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// maxWireOp bounds the wire ops counted one by one (all of them: the
// largest is below 80); a larger one is ignored.
const maxWireOp = 128

// NewWireOps returns the operations of a service's wire calls:
// ferry_wire_call_duration_seconds{op} and
// ferry_wire_call_errors_total{op,errno}. A compound call counts once,
// as "compound".
func NewWireOps() *Ops {
	names := make([]string, maxWireOp)
	for i := range names {
		names[i] = wire.Op(i).String()
	}
	return NewOps("ferry_wire_call", "wire call", names)
}

// Acceptor decorates a service's acceptor: every call of every session
// it admits is recorded in ops (made by NewWireOps). A connection whose
// Hello names wire.StatsClient is admitted without a session, and may
// only ask for r's metrics (wire.OpMetrics) and send heartbeats.
func Acceptor(accept rpc.Acceptor, ops *Ops, r *Registry) rpc.Acceptor {
	return func(ctx context.Context, h *wire.Hello, peer string, push rpc.Pusher) (rpc.SessionHandler, *wire.HelloReply, error) {
		if h.Client == wire.StatsClient {
			if h.MaxVersion < wire.MinVersion || h.MinVersion > wire.Version {
				return nil, nil, fmt.Errorf("%w: client speaks protocol %d-%d, service %d-%d",
					syscall.EPROTO, h.MinVersion, h.MaxVersion, wire.MinVersion, wire.Version)
			}
			reply := &wire.HelloReply{Version: min(h.MaxVersion, wire.Version), LeasePeriod: int64(statsHeartbeat)}
			return statsHandler{r}, reply, nil
		}
		handler, reply, err := accept(ctx, h, peer, push)
		if err != nil {
			return nil, nil, err
		}
		return measuredHandler{handler, ops}, reply, nil
	}
}

// measuredHandler records the calls of one session's connection.
type measuredHandler struct {
	rpc.SessionHandler
	ops *Ops
}

func (m measuredHandler) Call(ctx context.Context, op wire.Op, id uint64, payload []byte) []byte {
	start := Now()
	out := m.SessionHandler.Call(ctx, op, id, payload)
	m.ops.Since(int(op), start, replyErrno(out))
	return out
}

// Inline passes the question on: the decorator must not change where
// the server runs a call.
func (m measuredHandler) Inline(op wire.Op) bool {
	in, ok := m.SessionHandler.(rpc.Inliner)
	return ok && in.Inline(op)
}

// replyErrno reads the errno a reply payload starts with
// (wire.AppendReply).
func replyErrno(p []byte) syscall.Errno {
	if len(p) < 4 {
		return syscall.EIO
	}
	return syscall.Errno(binary.LittleEndian.Uint32(p))
}

// statsHeartbeat is the lease period told to a stats connection: it only
// paces the client's heartbeats, since there is no session to keep.
const statsHeartbeat = 10 * time.Second

// statsHandler serves a `ferry stats` connection.
type statsHandler struct{ r *Registry }

func (s statsHandler) Call(_ context.Context, op wire.Op, _ uint64, _ []byte) []byte {
	switch op {
	case wire.OpMetrics:
		text, err := s.r.Text()
		if err != nil {
			return wire.AppendReply(nil, syscall.EIO, err.Error(), nil)
		}
		return wire.AppendReply(nil, 0, "", &wire.Data{B: text})
	case wire.OpHeartbeat, wire.OpBye:
		return wire.AppendReply(nil, 0, "", nil)
	}
	return wire.AppendReply(nil, syscall.EPERM, "a stats connection has no session: it may only ask for metrics", nil)
}

func (statsHandler) Detached(error) {}
