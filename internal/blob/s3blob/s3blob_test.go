package s3blob

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/blobtest"
)

func TestConformance(t *testing.T) {
	srv := startServer(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return srv.open(t, srv.newBucket(t), "", Options{})
	})
}

// TestConformanceSmall runs the suite again with the smallest parts, so
// that its large objects go up in parts, and listings of two keys a page.
func TestConformanceSmall(t *testing.T) {
	srv := startServer(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s := srv.open(t, srv.newBucket(t), "", Options{PartSize: minPartSize})
		s.listPage = 2
		return s
	})
}

// TestPrefix checks that two stores with different prefixes in one bucket
// see only their own objects, under keys without the prefix.
func TestPrefix(t *testing.T) {
	srv := startServer(t)
	bucket := srv.newBucket(t)
	a := srv.open(t, bucket, "vol/a", Options{})
	b := srv.open(t, bucket, "vol/b/", Options{})
	ctx := context.Background()
	for _, s := range []*Store{a, b} {
		if err := s.Put(ctx, "k/1", []byte(s.loc.Prefix)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*Store{a, b} {
		got, err := s.Get(ctx, "k/1", 0, -1)
		if err != nil || string(got) != s.loc.Prefix {
			t.Fatalf("%s: Get = %q, %v; want %q", s.loc.Prefix, got, err, s.loc.Prefix)
		}
		var keys []string
		if err := s.List(ctx, "", func(o blob.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0] != "k/1" {
			t.Fatalf("%s: List = %q, want [k/1]", s.loc.Prefix, keys)
		}
	}
	if err := a.Delete(ctx, "k/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k/1", 0, -1); err != nil {
		t.Fatalf("deleting under one prefix touched the other: %v", err)
	}
	long := bytes.Repeat([]byte("x"), blob.MaxKeyLen-1)
	if err := a.Put(ctx, string(long), nil); !errors.Is(err, blob.ErrInvalidKey) {
		t.Fatalf("Put of a key too long with the prefix = %v, want ErrInvalidKey", err)
	}
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestMultipart puts objects above the part size, the last part short and
// exactly full, and reads them back across part boundaries.
func TestMultipart(t *testing.T) {
	srv := startServer(t)
	bucket := srv.newBucket(t)
	s := srv.open(t, bucket, "", Options{PartSize: minPartSize, PartConcurrency: 2})
	ctx := context.Background()
	for _, size := range []int{2*minPartSize + 12345, 3 * minPartSize} {
		data := randomBytes(size)
		if err := s.Put(ctx, "mp/obj", data); err != nil {
			t.Fatalf("Put of %d bytes: %v", size, err)
		}
		got, err := s.Get(ctx, "mp/obj", 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get of %d bytes: %d bytes, %v", size, len(got), err)
		}
		off := int64(minPartSize - 100)
		got, err = s.Get(ctx, "mp/obj", off, 200)
		if err != nil || !bytes.Equal(got, data[off:off+200]) {
			t.Fatalf("Get across a part boundary: %d bytes, %v", len(got), err)
		}
	}
	wantNoUploads(t, srv, bucket)
}

// TestMultipartAbort cancels a Put after its first part and checks that
// the upload was aborted and no object appeared.
func TestMultipartAbort(t *testing.T) {
	srv := startServer(t)
	bucket := srv.newBucket(t)
	s := srv.open(t, bucket, "", Options{PartSize: minPartSize, PartConcurrency: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.partDone = func(part int32) {
		if part == 1 {
			cancel()
		}
	}
	err := s.Put(ctx, "mp/aborted", randomBytes(3*minPartSize))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put canceled after its first part = %v, want context.Canceled", err)
	}
	wantNoUploads(t, srv, bucket)
	if _, err := s.Get(context.Background(), "mp/aborted", 0, -1); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get of an aborted upload = %v, want ErrNotFound", err)
	}
}

func wantNoUploads(t *testing.T, srv *server, bucket string) {
	t.Helper()
	out, err := srv.admin().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(out.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left behind, first %q", len(out.Uploads), *out.Uploads[0].Key)
	}
}
