package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferryfs/ferry/internal/blob"
)

// Put stores data under key: in one request up to Options.PartSize, in
// parts above it.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := s.check(ctx, key); err != nil {
		return &blob.OpError{Op: "put", Key: key, Err: err}
	}
	if int64(len(data)) > s.opts.PartSize {
		return s.putMultipart(ctx, key, data)
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.loc.Bucket,
		Key:           s.key(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return opError("put", key, err)
	}
	return nil
}

// Get reads length bytes at off with a Range request. A body whose reading
// fails (a reset connection, a stall) is asked for again, up to
// Options.MaxAttempts times in all.
func (s *Store) Get(ctx context.Context, key string, off, length int64) ([]byte, error) {
	if err := s.check(ctx, key); err != nil {
		return nil, &blob.OpError{Op: "get", Key: key, Err: err}
	}
	if err := blob.CheckRange(off); err != nil {
		return nil, &blob.OpError{Op: "get", Key: key, Err: err}
	}
	if length == 0 { // no Range can ask for nothing; only existence matters
		_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.loc.Bucket, Key: s.key(key)})
		if err != nil {
			return nil, opError("get", key, err)
		}
		return []byte{}, nil
	}
	for attempt := 1; ; attempt++ {
		data, err := s.getOnce(ctx, key, off, length)
		var be *bodyError
		if err == nil || !errors.As(err, &be) || ctx.Err() != nil || attempt >= s.opts.MaxAttempts {
			return data, err
		}
		s.log.Debug("s3blob: reading object failed, asking again", "key", key, "attempt", attempt, "err", err)
		if err := backoff(ctx, attempt, s.opts.MaxBackoff); err != nil {
			return nil, &blob.OpError{Op: "get", Key: key, Err: err}
		}
	}
}

// backoff waits before attempt+1: a random time up to 50ms·2^attempt,
// capped at limit, as the SDK's retryer does; it returns early with the
// context's error.
func backoff(ctx context.Context, attempt int, limit time.Duration) error {
	d := min(limit, 50*time.Millisecond<<min(attempt, 20))
	t := time.NewTimer(rand.N(d + 1))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bodyError is the error of reading a response body, which Get retries.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

func (s *Store) getOnce(ctx context.Context, key string, off, length int64) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := &s3.GetObjectInput{Bucket: &s.loc.Bucket, Key: s.key(key), Range: rangeHeader(off, length)}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if apiCode(err) == "InvalidRange" || httpStatus(err) == 416 {
			return []byte{}, nil // the object exists; the range starts past its end
		}
		return nil, opError("get", key, err)
	}
	defer out.Body.Close()
	st := newStallTimer(s.opts.AttemptTimeout, cancel)
	defer st.stop()
	body := &progressReader{r: out.Body, progress: st.progress}
	var data []byte
	if n := aws.ToInt64(out.ContentLength); out.ContentLength != nil && n >= 0 {
		data = make([]byte, n)
		_, err = io.ReadFull(body, data)
	} else {
		data, err = io.ReadAll(body)
	}
	if err != nil {
		werr := wrap(err)
		if st.stalled() && ctx.Err() != nil {
			werr = &kindError{kind: ErrUnreachable, msg: fmt.Sprintf("service unreachable: response stalled for %v", s.opts.AttemptTimeout), cause: err}
		}
		return nil, &blob.OpError{Op: "get", Key: key, Err: &bodyError{err: werr}}
	}
	if in.Range != nil && out.ContentRange == nil {
		// The service ignored the Range header and sent the whole object.
		data = blob.Clip(data, off, length)
	}
	return data, nil
}

// rangeHeader returns the HTTP Range of a Get, or nil for a whole object.
// off has passed blob.CheckRange and length is not zero.
func rangeHeader(off, length int64) *string {
	switch {
	case off == 0 && length < 0:
		return nil
	case length < 0 || length > math.MaxInt64-off:
		return aws.String(fmt.Sprintf("bytes=%d-", off))
	default:
		return aws.String(fmt.Sprintf("bytes=%d-%d", off, off+length-1))
	}
}

type progressReader struct {
	r        io.Reader
	progress func()
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.progress()
	}
	return n, err
}

// Delete removes key; S3 answers a delete of a missing key with success,
// and a service that answers 404 is taken to agree.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, key); err != nil {
		return &blob.OpError{Op: "delete", Key: key, Err: err}
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.loc.Bucket, Key: s.key(key)})
	if err != nil && !errors.Is(wrap(err), blob.ErrNotFound) {
		return opError("delete", key, err)
	}
	return nil
}

// List pages through ListObjectsV2, whose keys come in ascending UTF-8
// byte order, which for the ASCII keys of a blob.Store is ascending key
// order. It fails rather than pass on keys out of order, and skips keys
// under the prefix that no Store could have written (such as the
// "directory/" markers some tools create).
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Object) error) error {
	if err := ctx.Err(); err != nil {
		return &blob.OpError{Op: "list", Key: prefix, Err: err}
	}
	in := &s3.ListObjectsV2Input{Bucket: &s.loc.Bucket, Prefix: aws.String(s.loc.Prefix + prefix)}
	if s.listPage > 0 {
		in.MaxKeys = aws.Int32(s.listPage)
	}
	pages := s3.NewListObjectsV2Paginator(s.client, in)
	last := ""
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return opError("list", prefix, err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.loc.Prefix)
			if !ok || !strings.HasPrefix(key, prefix) {
				return &blob.OpError{Op: "list", Key: prefix, Err: fmt.Errorf("service listed %q, outside the prefix", aws.ToString(o.Key))}
			}
			if key <= last && last != "" {
				return &blob.OpError{Op: "list", Key: prefix, Err: fmt.Errorf("service listed %q after %q, out of ascending order", key, last)}
			}
			last = key
			if blob.CheckKey(key) != nil {
				s.log.Debug("s3blob: list skips a key no store writes", "key", key)
				continue
			}
			if err := fn(blob.Object{Key: key, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// check refuses invalid keys and a done context before any request.
func (s *Store) check(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	if len(s.loc.Prefix)+len(key) > blob.MaxKeyLen {
		return fmt.Errorf("%w %q: longer than %d bytes with the prefix %q", blob.ErrInvalidKey, key, blob.MaxKeyLen, s.loc.Prefix)
	}
	return ctx.Err()
}
