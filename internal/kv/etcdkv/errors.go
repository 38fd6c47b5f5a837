package etcdkv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Kinds of error, for errors.Is. Conflicts that outlast the retries are
// kv.ErrConflict; a closed store is kv.ErrClosed.
var (
	// ErrBadURL: the etcd:// URL is malformed.
	ErrBadURL = errors.New("bad URL")
	// ErrUnreachable: no member answered within the dial or request
	// timeout (the cluster is down, unreachable, or has lost quorum).
	ErrUnreachable = errors.New("cluster unreachable")
	// ErrTooLarge: the transaction exceeds the cluster's limits on
	// operations or bytes per request. Nothing was applied.
	ErrTooLarge = errors.New("transaction too large for the cluster")
	// ErrOutcomeUnknown: a commit was sent but no answer came back (the
	// member failed or the request timed out); it may or may not have been
	// applied.
	ErrOutcomeUnknown = errors.New("commit outcome unknown")
	// ErrCompacted: a transaction's read revision was compacted away by
	// the cluster before it finished reading.
	ErrCompacted = errors.New("read revision compacted")
)

// rpcError turns an error of one etcd request into an error of this
// package: op names the operation, parent is the caller's context (whose
// own cancellation is returned as is), rctx the request's (which carries
// the request timeout), sent says whether the request may have changed the
// store (a commit).
func (s *Store) rpcError(parent, rctx context.Context, op string, err error, sent bool) error {
	if perr := parent.Err(); perr != nil {
		if sent {
			return fmt.Errorf("etcdkv: %s: %w (%w)", op, ErrOutcomeUnknown, perr)
		}
		return fmt.Errorf("etcdkv: %s: %w", op, perr)
	}
	switch {
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrGRPCTooManyOps):
		return fmt.Errorf("etcdkv: %s: %w: %v (the cluster's --max-txn-ops is lower than max-txn-ops=%d)",
			op, ErrTooLarge, err, s.opts.MaxTxnOps)
	case errors.Is(err, rpctypes.ErrRequestTooLarge), errors.Is(err, rpctypes.ErrGRPCRequestTooLarge),
		status.Code(err) == codes.ResourceExhausted && strings.Contains(err.Error(), "larger than max"):
		return fmt.Errorf("etcdkv: %s: %w: %v (the cluster's --max-request-bytes is lower than max-request-bytes=%d)",
			op, ErrTooLarge, err, s.opts.MaxRequestBytes)
	case errors.Is(err, rpctypes.ErrCompacted), errors.Is(err, rpctypes.ErrGRPCCompacted):
		return fmt.Errorf("etcdkv: %s: %w: %v", op, ErrCompacted, err)
	}
	code := codeOf(err)
	// A member that times out a request on the deadline the client sent
	// with it answers with code Unknown.
	if errors.Is(err, context.DeadlineExceeded) || code == codes.DeadlineExceeded ||
		errors.Is(rctx.Err(), context.DeadlineExceeded) ||
		strings.Contains(status.Convert(err).Message(), context.DeadlineExceeded.Error()) {
		if sent {
			return fmt.Errorf("etcdkv: %s: %w: no answer from %s within %v", op, ErrOutcomeUnknown, s.target, s.opts.RequestTimeout)
		}
		return fmt.Errorf("etcdkv: %s: %w: no answer from %s within %v", op, ErrUnreachable, s.target, s.opts.RequestTimeout)
	}
	if sent && (code == codes.Unavailable || code == codes.Unknown || code == codes.Canceled || code == codes.Internal) {
		return fmt.Errorf("etcdkv: %s: %w: %v", op, ErrOutcomeUnknown, err)
	}
	if code == codes.Unavailable {
		return fmt.Errorf("etcdkv: %s: %w: %v", op, ErrUnreachable, err)
	}
	return fmt.Errorf("etcdkv: %s: %w", op, err)
}

// codeOf returns the gRPC code of an error of the etcd client, which
// returns the server's errors as rpctypes.EtcdError and the rest as gRPC
// statuses.
func codeOf(err error) codes.Code {
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return ee.Code()
	}
	return status.Code(err)
}
