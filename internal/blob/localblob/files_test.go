package localblob_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/localblob"
)

func TestLayout(t *testing.T) {
	s := open(t, localblob.Options{})
	const key = "blocks/0a/000000000000010a"
	if err := s.Put(context.Background(), key, []byte("contents")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Dir(), "blocks", "0a", "000000000000010a")
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "contents" {
		t.Fatalf("object file %s: %q, %v", p, b, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Fatalf("object file mode %v, want 0600", m)
	}
	ents, err := os.ReadDir(filepath.Dir(p))
	if err != nil || len(ents) != 1 {
		t.Fatalf("shard directory holds %v (%v), want only the object", ents, err)
	}
}

func TestOpen(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "vol", "objects")
	s, err := localblob.Open(dir, localblob.Options{})
	if err != nil {
		t.Fatalf("Open of a missing directory: %v", err)
	}
	ctx := context.Background()
	if err := s.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Sync after Close = %v, want ErrClosed", err)
	}
	s2, err := localblob.Open(dir, localblob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if b, err := s2.Get(ctx, "k", 0, -1); err != nil || string(b) != "v" {
		t.Fatalf("Get after reopening = %q, %v", b, err)
	}
	file := filepath.Join(base, "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := localblob.Open(file, localblob.Options{}); !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("Open of a file = %v, want ENOTDIR", err)
	}
}

// TestErrorsKeepCause provokes real file system errors and checks that they
// stay visible through the wrapping, with the operation and key.
func TestErrorsKeepCause(t *testing.T) {
	s := open(t, localblob.Options{})
	ctx := context.Background()
	for _, k := range []string{"file", "dir/x"} {
		if err := s.Put(ctx, k, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	long := "long/" + strings.Repeat("n", 300)
	for _, c := range []struct {
		key  string
		want error
	}{
		{"file/below", syscall.ENOTDIR},
		{"dir", syscall.EEXIST}, // os.Rename refuses to replace a directory
		{long, syscall.ENAMETOOLONG},
	} {
		err := s.Put(ctx, c.key, []byte("y"))
		if !errors.Is(err, c.want) {
			t.Errorf("Put(%q) = %v, want %v", c.key, err, c.want)
			continue
		}
		var oe *blob.OpError
		if !errors.As(err, &oe) || oe.Op != "put" || oe.Key != c.key {
			t.Errorf("Put(%q) error %#v does not name the operation and key", c.key, err)
		}
		if !strings.Contains(err.Error(), "put") || !strings.Contains(err.Error(), c.key) {
			t.Errorf("Put(%q) error message %q lacks the operation or key", c.key, err)
		}
	}
	// Failed Puts leave no temporary file behind.
	var names []string
	filepath.WalkDir(s.Dir(), func(p string, d os.DirEntry, err error) error {
		if strings.Contains(p, ".ferrytmp-") {
			names = append(names, p)
		}
		return err
	})
	if len(names) > 0 {
		t.Fatalf("temporary files left after failed Puts: %q", names)
	}
}

// TestListSkipsStrangers puts files that are not objects into the directory.
func TestListSkipsStrangers(t *testing.T) {
	s := open(t, localblob.Options{})
	ctx := context.Background()
	if err := s.Put(ctx, "d/obj", []byte("o")); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(s.Dir(), "d")
	for _, name := range []string{"bad\x01name", ".ferrytmp-0123456789abcdef-7", "caf\xc3\xa9"} {
		if err := os.WriteFile(filepath.Join(d, name), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("obj", filepath.Join(d, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(d, ".ferrytmp-dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	var keys []string
	err := s.List(ctx, "", func(o blob.Object) error { keys = append(keys, o.Key); return nil })
	if err != nil || !slices.Equal(keys, []string{"d/obj"}) {
		t.Fatalf("List = %q, %v; want only d/obj", keys, err)
	}
	if _, err := s.Get(ctx, "d/.ferrytmp-0123456789abcdef-7", 0, -1); !errors.Is(err, blob.ErrInvalidKey) {
		t.Fatalf("Get of a temporary file name = %v, want ErrInvalidKey", err)
	}
}

func TestGetReadsRange(t *testing.T) {
	s := open(t, localblob.Options{})
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789"), 1<<16)
	if err := s.Put(ctx, "r", data); err != nil {
		t.Fatal(err)
	}
	b, err := s.Get(ctx, "r", 123457, 10)
	if err != nil || string(b) != "7890123456" {
		t.Fatalf("Get = %q, %v", b, err)
	}
	if cap(b) != 10 {
		t.Fatalf("a 10-byte Get allocated %d bytes", cap(b))
	}
}
