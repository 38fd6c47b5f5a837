package s3blob

import (
	"context"
	"fmt"
	"github.com/aws/smithy-go/logging"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferryfs/ferry/internal/blob"
)

const (
	minPartSize = 5 << 20 // the S3 minimum for every part but the last

	defaultPartSize        = 16 << 20
	defaultPartConcurrency = 4
	defaultMaxAttempts     = 6
	defaultMaxBackoff      = 5 * time.Second
	defaultOpenTimeout     = 5 * time.Second
	defaultDialTimeout     = 3 * time.Second
	defaultAttemptTimeout  = 30 * time.Second
	defaultMinRate         = 1 << 20 // bytes per second an upload may not fall below
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
	// PartSize is both the size above which Put uploads in parts and the
	// size of each part. Zero means 16 MiB; the minimum is 5 MiB.
	PartSize int64
	// PartConcurrency bounds the parts of one Put in flight. Zero means 4.
	PartConcurrency int
	// MaxAttempts bounds the attempts of one request, the first included,
	// when the service answers 5xx or throttles, or a connection fails or
	// times out. Zero means 6.
	MaxAttempts int
	// MaxBackoff caps the randomized exponential wait between attempts.
	// Zero means 5s.
	MaxBackoff time.Duration
	// OpenTimeout bounds the bucket check of Open, retries included. Zero
	// means 5s.
	OpenTimeout time.Duration
	// DialTimeout bounds the opening of one connection. Zero means 3s.
	DialTimeout time.Duration
	// AttemptTimeout bounds one attempt of a request other than a Get, the
	// wait for response headers, and a stall while reading the body of a
	// Get. An upload attempt gets AttemptTimeout plus its size at MinRate.
	// Zero means 30s.
	AttemptTimeout time.Duration
	// MinRate is the upload rate, in bytes per second, below which an
	// upload attempt times out. Zero means 1 MiB/s.
	MinRate int64
}

func (o *Options) fill() error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.PartSize == 0:
		o.PartSize = defaultPartSize
	case o.PartSize < minPartSize:
		return fmt.Errorf("part size %d is below the S3 minimum of %d bytes", o.PartSize, minPartSize)
	}
	setDefault(&o.PartConcurrency, defaultPartConcurrency)
	setDefault(&o.MaxAttempts, defaultMaxAttempts)
	setDefault(&o.MaxBackoff, defaultMaxBackoff)
	setDefault(&o.OpenTimeout, defaultOpenTimeout)
	setDefault(&o.DialTimeout, defaultDialTimeout)
	setDefault(&o.AttemptTimeout, defaultAttemptTimeout)
	setDefault(&o.MinRate, defaultMinRate)
	return nil
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Store is a blob.Store on a bucket of an S3-compatible service. Its
// methods are safe for concurrent use.
type Store struct {
	loc    Location
	client *s3.Client
	// transport is the client's, kept to close its idle connections.
	transport *http.Transport
	log       *slog.Logger
	opts      Options

	// partDone, if set, is called after each part of a multipart upload
	// succeeds (tests use it to fail an upload half way).
	partDone func(part int32)
	// listPage, if set, asks List for pages this small (tests use it to
	// page through few keys); zero leaves the service's 1,000.
	listPage int32
}

var _ blob.Store = (*Store)(nil)

// Open parses rawURL (see ParseURL), loads credentials from the standard
// AWS chain (environment, shared files and the URL's profile, then the
// platform's sources), and checks that the bucket exists and the
// credentials may use it, within Options.OpenTimeout. Its errors are one
// line and name the URL without secrets; their kinds (errors.Is) are
// ErrBadURL, ErrNoBucket, ErrDenied or ErrUnreachable.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return OpenLocation(ctx, loc, opts)
}

// OpenLocation is Open for a parsed Location.
func OpenLocation(ctx context.Context, loc Location, opts Options) (*Store, error) {
	if err := opts.fill(); err != nil {
		return nil, fmt.Errorf("s3blob: open %s: %w", loc, err)
	}
	s := &Store{loc: loc, log: opts.Logger, opts: opts}
	ctx, cancel := context.WithTimeout(ctx, opts.OpenTimeout)
	defer cancel()
	if err := s.connect(ctx); err != nil {
		return nil, fmt.Errorf("s3blob: open %s: %w", loc, err)
	}
	if err := s.checkBucket(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("s3blob: open %s: %w", loc, err)
	}
	s.log.Debug("s3blob: opened", "location", loc.String())
	return s, nil
}

// Location returns where the store keeps its objects.
func (s *Store) Location() Location { return s.loc }

// Close releases idle connections. The store must not be used afterwards.
func (s *Store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// connect builds the client: credentials from the standard chain, a
// transport with bounded dial, TLS handshake and response header waits,
// the standard retryer with the options' attempts and backoff, path-style
// addressing, and, off AWS, checksums only where an operation requires
// them.
func (s *Store) connect(ctx context.Context) error {
	o := s.opts
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return newRetryer(o) }),
		// The SDK's own notes (such as falling back to IMDSv1 while it
		// looks for credentials) go to the store's log at debug level,
		// not to stderr: an error is one line.
		config.WithLogger(logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
			s.log.Debug("aws sdk: "+fmt.Sprintf(format, v...), "class", string(c))
		})),
	}
	if s.loc.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(s.loc.Region))
	}
	if s.loc.Profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(s.loc.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return &kindError{msg: "AWS configuration: " + describe(err), cause: err}
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	s.loc.Region = cfg.Region
	// Asked now, a missing key is reported as such rather than as a
	// failed request.
	if cfg.Credentials == nil {
		return &kindError{kind: ErrDenied, msg: "no AWS credentials configured", cause: ErrDenied}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return &kindError{kind: ErrDenied, msg: "no usable AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile): " + describe(err), cause: err}
	}
	s.transport = transport(cfg.HTTPClient, o)
	s.client = s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.HTTPClient = &http.Client{Transport: s.transport}
		so.UsePathStyle = true
		if s.loc.Endpoint != "" {
			so.BaseEndpoint = aws.String(s.loc.Endpoint)
			// The CRC32 checksums the SDK adds by default are rejected or
			// mishandled by several S3-compatible services.
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
		so.APIOptions = append(so.APIOptions, addAttemptDeadline(o.AttemptTimeout, o.MinRate))
	})
	return nil
}

// transport returns the store's own HTTP transport, derived from the one
// the AWS configuration built (which holds, say, the AWS_CA_BUNDLE roots).
func transport(c aws.HTTPClient, o Options) *http.Transport {
	var tr *http.Transport
	if bc, ok := c.(*awshttp.BuildableClient); ok {
		tr = bc.GetTransport()
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	tr.DialContext = (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = o.AttemptTimeout
	tr.TLSHandshakeTimeout = o.AttemptTimeout
	tr.MaxIdleConnsPerHost = 4 * o.PartConcurrency
	return tr
}

// checkBucket lists at most one key under the prefix, with at most two
// attempts, so that a wrong URL fails fast with a clear error. A list
// rather than HeadBucket: a HEAD answer has no body, so a service can only
// say 404 or 403 where a GET names the cause (NoSuchBucket,
// InvalidAccessKeyId, SignatureDoesNotMatch), and listing is a right the
// store needs anyway.
func (s *Store) checkBucket(ctx context.Context) error {
	_, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:  &s.loc.Bucket,
		Prefix:  aws.String(s.loc.Prefix),
		MaxKeys: aws.Int32(1),
	}, func(so *s3.Options) { so.RetryMaxAttempts = min(2, s.opts.MaxAttempts) })
	if err == nil {
		return nil
	}
	return bucketError(s.loc, err)
}

// key returns the object key of a blob key.
func (s *Store) key(k string) *string { return aws.String(s.loc.Prefix + k) }
