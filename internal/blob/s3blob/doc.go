// Package s3blob stores objects in a bucket of an S3-compatible service
// (AWS S3, or a service such as versitygw, MinIO or Ceph RGW given by its
// endpoint). It is the object store of a volume that outgrows one machine.
//
// # Location and credentials
//
// A store is named by a URL, s3://bucket/prefix?endpoint=URL&region=R,
// parsed by ParseURL: every key is stored under prefix; endpoint is the
// service's base URL (omitted for AWS); region defaults to AWS_REGION or
// the profile's, else us-east-1; an optional profile names a profile of
// the shared AWS files. Credentials
// come from the standard AWS chain (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials, then the
// platform's own sources), never from the URL, which is refused if it
// carries any: a URL ends up in logs, shell history and volume settings.
//
// Requests use path-style addressing (http://endpoint/bucket/key), which
// every S3-compatible service understands. Off AWS, request checksums are
// sent and response checksums checked only where an operation requires
// them: several services reject or mishandle the CRC32 checksums the SDK
// otherwise adds.
//
// Open resolves the credentials and lists at most one key of the bucket
// (a HEAD answer names no cause, a listing's error does) within
// Options.OpenTimeout, and names any cause in one line: ErrNoBucket,
// ErrDenied or ErrUnreachable.
//
// # Requests, retries and timeouts
//
// Put stores an object in one PutObject up to Options.PartSize, and above
// it in a multipart upload of parts of that size, several in flight; a
// failed or canceled multipart Put aborts its upload, so that no parts are
// left behind (an abort that fails too is logged; a bucket lifecycle rule
// that aborts incomplete uploads removes what it left). Get maps (off, length) to an HTTP Range; a range that starts
// past the end (416) reads as no bytes. Delete of a missing key succeeds.
// List pages through ListObjectsV2, whose order is ascending byte order,
// and fails if a service ever breaks it. Put is durable when it returns, so
// Store has no Sync.
//
// Every request goes through the SDK's standard retryer (randomized
// exponential backoff capped at Options.MaxBackoff, Options.MaxAttempts in
// all) on 5xx answers, throttling, connection failures and timeouts, with
// the retry quota off. Nothing waits unbounded: a connection must open
// within Options.DialTimeout; response headers must come within
// Options.AttemptTimeout; an attempt other than a Get must finish within
// AttemptTimeout plus its upload at Options.MinRate; the body of a Get may
// stall for at most AttemptTimeout, and is asked for again if reading it
// fails. So a dead or hung service fails an operation with ErrUnreachable
// after a bounded time, and a service that comes back is used again.
//
// # Errors
//
// Every error of a Store operation is a *blob.OpError naming the
// operation and key, whose message is one line: the kind and the
// service's error code and message, or the network error, without the
// SDK's request IDs. errors.Is finds blob.ErrNotFound, blob.ErrInvalidKey,
// ErrNoBucket, ErrDenied, ErrUnreachable and the context's errors.
//
// # Limits
//
// S3 keys are at most 1024 bytes, prefix included: with a prefix, keys
// longer than 1024 bytes minus the prefix are refused as invalid. Objects
// are at most 10,000 parts of Options.PartSize.
package s3blob
