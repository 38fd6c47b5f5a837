package appliancetest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testmount"
	"golang.org/x/sys/unix"
)

// pair starts a service and two mounts of its volume.
func pair(t *testing.T) (a, b *testmount.Remote) {
	t.Helper()
	svc := testmount.StartServe(t, testmount.ServeOptions{})
	return testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{}), testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{})
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("readdir %s: %v", dir, err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("lstat %s: got %v, want ENOENT", path, err)
	}
}

// Each step changes something on A and looks at it on B at once, with
// B's kernel caches warm beforehand: every look would be answered from a
// stale cache if a recall were missing.
func TestPromiseSteps(t *testing.T) {
	a, b := pair(t)
	at, bt := a.Path, b.Path

	// A missing name, cached as missing on B, then created on A.
	mustNotExist(t, bt("f"))
	if err := os.WriteFile(at("f"), []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(bt("f")); err != nil || string(got) != "one" {
		t.Fatalf("B reads %q, %v; want one", got, err)
	}
	if got := names(t, b.Dir); !slices.Equal(got, []string{"f"}) {
		t.Fatalf("B lists %v", got)
	}

	// Attributes.
	if err := os.Chmod(at("f"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(bt("f")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("B stat after chmod: %v %v", st.Mode(), err)
	}
	mt := time.Unix(1_000_000_000, 123_456_789)
	if err := os.Chtimes(at("f"), mt, mt); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(bt("f"), &st); err != nil || st.Mtim.Nano() != mt.UnixNano() {
		t.Fatalf("B mtime %v, %v; want %v", st.Mtim.Nano(), err, mt.UnixNano())
	}

	// Contents: rewritten and closed on A, opened again on B.
	if err := os.WriteFile(at("f"), []byte("two, longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(bt("f")); err != nil || string(got) != "two, longer" {
		t.Fatalf("B reads %q, %v after rewrite", got, err)
	}
	if err := os.Truncate(at("f"), 3); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(bt("f")); err != nil || string(got) != "two" {
		t.Fatalf("B reads %q, %v after truncate", got, err)
	}

	// Rename, links, directories, symlinks, removal.
	if err := os.Mkdir(at("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(at("f"), at("d/g")); err != nil {
		t.Fatal(err)
	}
	mustNotExist(t, bt("f"))
	if got, err := os.ReadFile(bt("d/g")); err != nil || string(got) != "two" {
		t.Fatalf("B reads d/g: %q, %v", got, err)
	}
	if err := os.Link(at("d/g"), at("h")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(bt("d/g")); err != nil || st.Sys().(*syscall.Stat_t).Nlink != 2 {
		t.Fatalf("B nlink after link: %v", err)
	}
	if err := os.Symlink("d/g", at("s")); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(bt("s")); err != nil || got != "d/g" {
		t.Fatalf("B readlink %q %v", got, err)
	}
	if err := os.Remove(at("h")); err != nil {
		t.Fatal(err)
	}
	mustNotExist(t, bt("h"))
	if st, err := os.Stat(bt("d/g")); err != nil || st.Sys().(*syscall.Stat_t).Nlink != 1 {
		t.Fatalf("B nlink after unlink: %v", err)
	}
	if err := os.RemoveAll(at("d")); err != nil {
		t.Fatal(err)
	}
	mustNotExist(t, bt("d/g"))
	mustNotExist(t, bt("d"))
	if got := names(t, b.Dir); !slices.Equal(got, []string{"s"}) {
		t.Fatalf("B lists %v, want [s]", got)
	}

	// xattrs.
	if err := os.WriteFile(at("x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// B learns that x has no user.k (and remembers it under its lease).
	if _, err := unix.Getxattr(bt("x"), "user.k", make([]byte, 16)); !errors.Is(err, unix.ENODATA) {
		t.Fatalf("B getxattr of a missing attribute: %v, want ENODATA", err)
	}
	if err := unix.Setxattr(at("x"), "user.k", []byte("v1"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := unix.Getxattr(bt("x"), "user.k", buf)
	if err != nil {
		t.Fatalf("B getxattr after A set it: %v", err)
	}
	if string(buf[:n]) != "v1" {
		t.Fatalf("B getxattr %q, want v1", buf[:n])
	}
}

// A writer keeps its file open and buffered; another client that opens
// the file reads what was written (the service has the writer flush).
func TestOpenRecallsWriter(t *testing.T) {
	a, b := pair(t)
	f, err := os.Create(a.Path("w"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("buffered bytes")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(b.Path("w"))
	if err != nil || string(got) != "buffered bytes" {
		t.Fatalf("B reads %q, %v while A still has it open", got, err)
	}
}

// The two mounts see the same trees after each has changed its own part.
func TestTreesAgree(t *testing.T) {
	a, b := pair(t)
	for i, m := range []*testmount.Remote{a, b} {
		d := filepath.Join(m.Dir, []string{"ad", "bd"}[i])
		if err := os.MkdirAll(filepath.Join(d, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range 50 {
			if err := os.WriteFile(filepath.Join(d, "sub", string(rune('a'+j%26))+string(rune('0'+j/26))), []byte{byte(j)}, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ta, tb := tree(t, a.Dir), tree(t, b.Dir)
	if !slices.Equal(ta, tb) {
		t.Fatalf("trees differ:\nA %v\nB %v", ta, tb)
	}
	if len(ta) != 2+2+100 {
		t.Fatalf("tree has %d entries, want 104", len(ta))
	}
}

func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, rel+" "+info.Mode().String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
