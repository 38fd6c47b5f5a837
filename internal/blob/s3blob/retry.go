package s3blob

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// newRetryer returns the SDK's standard retryer (randomized exponential
// backoff; retries on 5xx, throttling, connection errors and timeouts) with
// the options' attempts and backoff cap, which also retries an attempt that
// ran out of its own deadline.
//
// Its retry quota is off: the quota is meant to shed load from a fleet of
// clients, but a file system that saw its store down for a minute would
// spend it and then fail every request at the first error until enough
// requests succeeded to refill it.
func newRetryer(o Options) aws.Retryer {
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = o.MaxAttempts
		so.MaxBackoff = o.MaxBackoff
		so.RateLimiter = ratelimit.None
		// First: the SDK reports the expiry of the attempt's context as a
		// cancellation, which its own checks never retry.
		so.Retryables = append([]retry.IsErrorRetryable{
			retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				var te *attemptTimeoutError
				if errors.As(err, &te) {
					return aws.TrueTernary
				}
				return aws.UnknownTernary
			}),
		}, so.Retryables...)
	})
}

// attemptTimeoutError is the error of an attempt that ran out of its own
// deadline while the operation's context was still live.
type attemptTimeoutError struct {
	op    string
	limit time.Duration
}

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("%s: attempt timed out after %v", e.op, e.limit.Round(time.Millisecond))
}

func (e *attemptTimeoutError) Timeout() bool { return true }

// attemptDeadline gives each attempt of a request its own deadline: limit,
// plus the request body's length at minRate. It sits below the retry
// middleware, so it runs once per attempt. GetObject is left alone: its
// body is read after the middleware returns, under Get's stall timer.
type attemptDeadline struct {
	limit   time.Duration
	minRate int64
}

func addAttemptDeadline(limit time.Duration, minRate int64) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Insert(&attemptDeadline{limit: limit, minRate: minRate}, "Retry", middleware.After)
	}
}

func (*attemptDeadline) ID() string { return "FerryAttemptDeadline" }

func (m *attemptDeadline) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	op := middleware.GetOperationName(ctx)
	if op == "GetObject" {
		return next.HandleFinalize(ctx, in)
	}
	limit := m.limit
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		if n, ok, err := req.StreamLength(); err == nil && ok && n > 0 {
			limit += time.Duration(n) * time.Second / time.Duration(m.minRate)
		}
	}
	actx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	out, md, err := next.HandleFinalize(actx, in)
	if err != nil && ctx.Err() == nil && actx.Err() != nil {
		err = &attemptTimeoutError{op: op, limit: limit}
	}
	return out, md, err
}

// stallTimer cancels a Get whose response stops making progress: each call
// to progress pushes the deadline limit further; stalled tells whether it
// fired.
type stallTimer struct {
	t     *time.Timer
	limit time.Duration
	fired atomic.Bool
}

func newStallTimer(limit time.Duration, cancel context.CancelFunc) *stallTimer {
	st := &stallTimer{limit: limit}
	st.t = time.AfterFunc(limit, func() {
		st.fired.Store(true)
		cancel()
	})
	return st
}

func (st *stallTimer) progress() { st.t.Reset(st.limit) }

func (st *stallTimer) stop() { st.t.Stop() }

func (st *stallTimer) stalled() bool { return st.fired.Load() }
