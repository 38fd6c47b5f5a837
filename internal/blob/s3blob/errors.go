package s3blob

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferryfs/ferry/internal/blob"
)

// The stable kinds of this package's errors, besides those of package blob
// (ErrNotFound, ErrInvalidKey, ErrInvalidRange) and ErrBadURL. Test them
// with errors.Is.
var (
	// ErrNoBucket: the bucket does not exist.
	ErrNoBucket = errors.New("s3blob: no such bucket")
	// ErrDenied: the service refused the credentials or their rights, or
	// no credentials were found.
	ErrDenied = errors.New("s3blob: access denied")
	// ErrUnreachable: the service could not be reached or did not answer
	// in time, after retries.
	ErrUnreachable = errors.New("s3blob: service unreachable")
)

// kindError is a short, one-line error with a stable kind that keeps the
// SDK's error as its cause, so errors.Is finds both the kind and, say,
// context.Canceled.
type kindError struct {
	kind  error // nil for errors of no particular kind
	msg   string
	cause error
}

func (e *kindError) Error() string { return e.msg }

func (e *kindError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.cause}
	}
	return []error{e.kind, e.cause}
}

// deniedCodes are the error codes of refused credentials or rights.
// XAdminUserNotFound is versitygw's answer (with status 404) to an
// unknown access key.
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"XAdminUserNotFound":    true,
}

// classify returns the kind of an SDK error, or nil.
func classify(err error) error {
	switch status, code := httpStatus(err), apiCode(err); {
	case code == "NoSuchKey" || status == 404 && (code == "" || code == "NotFound"):
		return blob.ErrNotFound
	case code == "NoSuchBucket":
		return ErrNoBucket
	case deniedCodes[code] || status == 401 || status == 403:
		return ErrDenied
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	var te *attemptTimeoutError
	var ne net.Error
	var se *smithyhttp.RequestSendError
	if errors.As(err, &te) || errors.As(err, &ne) || errors.As(err, &se) ||
		errors.Is(err, context.DeadlineExceeded) {
		return ErrUnreachable
	}
	return nil
}

// wrap turns an SDK error into a kindError whose message is the kind (if
// any) and the innermost useful cause. A canceled or expired context
// surfaces as itself, so errors.Is(err, context.Canceled) holds.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	kind := classify(err)
	msg := describe(err)
	if kind != nil && kind != blob.ErrNotFound {
		msg = strings.TrimPrefix(kind.Error(), "s3blob: ") + ": " + msg
	}
	return &kindError{kind: kind, msg: msg, cause: err}
}

// opError is the error of a Store operation on key.
func opError(op, key string, err error) error {
	return &blob.OpError{Op: op, Key: key, Err: wrap(err)}
}

// bucketError explains why Open's check of the bucket failed.
func bucketError(loc Location, err error) error {
	kind := classify(err)
	var msg string
	switch kind {
	case blob.ErrNotFound, ErrNoBucket: // HeadBucket answers a bare 404
		kind = ErrNoBucket
		msg = fmt.Sprintf("bucket %q does not exist", loc.Bucket)
	case ErrDenied:
		msg = fmt.Sprintf("access to bucket %q denied (%s): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile", loc.Bucket, describe(err))
	case ErrUnreachable:
		msg = fmt.Sprintf("%s unreachable: %s", endpointName(loc), describe(err))
	default:
		msg = fmt.Sprintf("checking bucket %q: %s", loc.Bucket, describe(err))
		switch apiCode(err) {
		case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
			msg += fmt.Sprintf(" (the bucket is not in region %s: set region= in the URL)", loc.Region)
		}
	}
	return &kindError{kind: kind, msg: msg, cause: err}
}

func endpointName(loc Location) string {
	if loc.Endpoint != "" {
		return loc.Endpoint
	}
	return "S3 in region " + loc.Region
}

// describe reduces an SDK error, which repeats the operation, the attempt
// count, request IDs and the whole URL, to its cause in one line.
func describe(err error) string {
	var ma *retry.MaxAttemptsError
	if errors.As(err, &ma) && ma.Err != nil {
		return fmt.Sprintf("%s after %d attempts", describe(ma.Err), ma.Attempt)
	}
	var te *attemptTimeoutError
	if errors.As(err, &te) {
		return te.Error()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		s := api.ErrorCode()
		if m := api.ErrorMessage(); m != "" && m != s {
			s += ": " + m
		}
		if st := httpStatus(err); st != 0 {
			s = fmt.Sprintf("%s (HTTP %d)", s, st)
		}
		return s
	}
	if st := httpStatus(err); st != 0 {
		return fmt.Sprintf("HTTP %d", st)
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Error()
	}
	var ue *url.Error // its own message repeats the method and URL
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	for _, ctxErr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, ctxErr) {
			return ctxErr.Error()
		}
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) && oe.Err != nil {
		return describe(oe.Err)
	}
	return firstLine(err.Error())
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
