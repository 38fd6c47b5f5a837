package s3blob

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferryfs/ferry/internal/blob"
)

// maxParts is the S3 limit on the parts of one upload.
const maxParts = 10000

// putMultipart uploads data in parts of Options.PartSize, at most
// Options.PartConcurrency at a time. On any failure, cancellation included,
// it aborts the upload, so that the service frees the parts already sent
// instead of keeping (and billing) them.
func (s *Store) putMultipart(ctx context.Context, key string, data []byte) error {
	if parts := (int64(len(data)) + s.opts.PartSize - 1) / s.opts.PartSize; parts > maxParts {
		return &blob.OpError{Op: "put", Key: key, Err: fmt.Errorf("%d bytes take %d parts of %d bytes, more than the S3 limit of %d", len(data), parts, s.opts.PartSize, maxParts)}
	}
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &s.loc.Bucket,
		Key:    s.key(key),
	})
	if err != nil {
		return opError("put", key, err)
	}
	id := created.UploadId
	parts, err := s.uploadParts(ctx, key, id, data)
	if err == nil {
		err = s.complete(ctx, key, id, parts, int64(len(data)))
	}
	if err != nil {
		s.abort(ctx, key, id)
		return opError("put", key, err)
	}
	return nil
}

// uploadParts sends every part and returns them in order, or the first
// error (after which it starts no more parts and waits for those in
// flight).
func (s *Store) uploadParts(ctx context.Context, key string, id *string, data []byte) ([]types.CompletedPart, error) {
	size := s.opts.PartSize
	n := (int64(len(data)) + size - 1) / size
	parts := make([]types.CompletedPart, n)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	sem := make(chan struct{}, s.opts.PartConcurrency)
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		num := int32(i + 1)
		chunk := data[i*size : min((i+1)*size, int64(len(data)))]
		wg.Go(func() {
			defer func() { <-sem }()
			out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
				Bucket:        &s.loc.Bucket,
				Key:           s.key(key),
				UploadId:      id,
				PartNumber:    aws.Int32(num),
				Body:          bytes.NewReader(chunk),
				ContentLength: aws.Int64(int64(len(chunk))),
			})
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
				return
			}
			parts[num-1] = types.CompletedPart{
				PartNumber:        aws.Int32(num),
				ETag:              out.ETag,
				ChecksumCRC32:     out.ChecksumCRC32,
				ChecksumCRC32C:    out.ChecksumCRC32C,
				ChecksumCRC64NVME: out.ChecksumCRC64NVME,
				ChecksumSHA1:      out.ChecksumSHA1,
				ChecksumSHA256:    out.ChecksumSHA256,
			}
			if s.partDone != nil {
				s.partDone(num)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	// The caller's context, if canceled, stopped the loop before any part
	// failed.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return parts, nil
}

// complete asks the service to assemble the parts. If the first attempt
// succeeded but its answer was lost, a retry finds no such upload; the
// object then exists, and its size tells.
func (s *Store) complete(ctx context.Context, key string, id *string, parts []types.CompletedPart, size int64) error {
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.loc.Bucket,
		Key:             s.key(key),
		UploadId:        id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil && apiCode(err) == "NoSuchUpload" {
		head, herr := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.loc.Bucket, Key: s.key(key)})
		if herr == nil && aws.ToInt64(head.ContentLength) == size {
			return nil
		}
	}
	return err
}

// abort cancels an upload, even when ctx is done (the usual reason to
// abort), within the bound of one attempt's timeout and its retries.
func (s *Store) abort(ctx context.Context, key string, id *string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.AttemptTimeout)
	defer cancel()
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   &s.loc.Bucket,
		Key:      s.key(key),
		UploadId: id,
	})
	if err != nil && apiCode(err) != "NoSuchUpload" {
		s.log.Warn("s3blob: could not abort a failed multipart upload; its parts stay until a lifecycle rule removes them",
			"bucket", s.loc.Bucket, "key", s.loc.Prefix+key, "upload", aws.ToString(id), "err", describe(err))
		return
	}
	s.log.Debug("s3blob: aborted a failed multipart upload", "key", key, "upload", aws.ToString(id))
}
