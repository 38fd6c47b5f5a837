package appliancetest

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/testmount"
	"golang.org/x/sys/unix"
)

var (
	trials = flag.Int("ferry.trials", 1500, "randomized change-then-look trials in TestPromiseRandom")
	seed   = flag.Uint64("ferry.seed", 0, "seed of TestPromiseRandom (0: from the clock)")
)

// view is what one mount sees of a path: its attributes or its errno,
// a directory's names, a file's contents, a symlink's target.
type view struct {
	Errno   syscall.Errno
	Mode    uint32
	Nlink   uint64
	UID     uint32
	Size    int64
	Mtime   int64
	Ctime   int64
	Names   []string
	Content string
	Target  string
	Xattr   string
}

func (v view) String() string {
	if v.Errno != 0 {
		return v.Errno.Error()
	}
	return fmt.Sprintf("mode %o nlink %d uid %d size %d mtime %d ctime %d names %v content %q target %q xattr %q",
		v.Mode, v.Nlink, v.UID, v.Size, v.Mtime, v.Ctime, v.Names, v.Content, v.Target, v.Xattr)
}

func errnoOf(err error) syscall.Errno {
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	if err != nil {
		return syscall.EIO
	}
	return 0
}

// look records what root sees at rel.
func look(root, rel string) view {
	p := path.Join(root, rel)
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return view{Errno: errnoOf(err)}
	}
	v := view{Mode: st.Mode, Nlink: st.Nlink, UID: st.Uid, Size: st.Size, Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano()}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		es, err := os.ReadDir(p)
		if err != nil {
			v.Errno = errnoOf(err)
		}
		for _, e := range es {
			v.Names = append(v.Names, e.Name())
		}
	case syscall.S_IFREG:
		b, err := os.ReadFile(p)
		if err != nil {
			v.Errno = errnoOf(err)
		}
		v.Content = string(b)
	case syscall.S_IFLNK:
		v.Target, _ = os.Readlink(p)
	}
	buf := make([]byte, 64)
	if n, err := unix.Lgetxattr(p, "user.t", buf); err == nil {
		v.Xattr = string(buf[:n])
	}
	return v
}

var dirs = []string{"", "a", "b", "a/c"}

func randPath(r *rand.Rand) string {
	return path.Join(dirs[r.IntN(len(dirs))], []string{"x", "y", "z", "c"}[r.IntN(4)])
}

// change makes one random change under root and returns the paths whose
// views it may have changed.
func change(r *rand.Rand, root string, i int) (string, []string) {
	p, q := randPath(r), randPath(r)
	at := func(rel string) string { return path.Join(root, rel) }
	touched := []string{p, path.Dir(p)}
	var desc string
	switch k := r.IntN(12); k {
	case 0, 1:
		desc = "write " + p
		f, err := os.OpenFile(at(p), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err == nil {
			fmt.Fprintf(f, "trial %d", i)
			f.Close()
		}
	case 2:
		desc = "append " + p
		f, err := os.OpenFile(at(p), os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			fmt.Fprintf(f, "+%d", i)
			f.Close()
		}
	case 3:
		desc = "truncate " + p
		os.Truncate(at(p), int64(r.IntN(4)))
	case 4:
		desc = "chmod " + p
		os.Chmod(at(p), os.FileMode(0o600+r.IntN(0o177)))
	case 5:
		desc = "utimes " + p
		mt := time.Unix(int64(1_600_000_000+i), int64(r.IntN(1e9)))
		os.Chtimes(at(p), mt, mt)
	case 6:
		desc = "mkdir " + p
		os.Mkdir(at(p), 0o755)
	case 7:
		desc = "remove " + p
		os.Remove(at(p))
	case 8:
		desc = "rename " + p + " " + q
		os.Rename(at(p), at(q))
		touched = append(touched, q, path.Dir(q))
	case 9:
		desc = "link " + p + " " + q
		os.Link(at(p), at(q))
		touched = append(touched, q, path.Dir(q))
	case 10:
		desc = "symlink " + p
		os.Symlink(fmt.Sprintf("t%d", i), at(p))
	case 11:
		desc = "setxattr " + p
		unix.Setxattr(at(p), "user.t", fmt.Appendf(nil, "%d", i), 0)
	}
	// Every name a change may have touched: a renamed directory moves
	// its whole subtree.
	for _, d := range dirs {
		if d != "" && (strings.HasPrefix(d+"/", p+"/") || strings.HasPrefix(d+"/", q+"/")) {
			for _, n := range []string{"x", "y", "z", "c"} {
				touched = append(touched, path.Join(d, n))
			}
		}
	}
	slices.Sort(touched)
	return desc, slices.Compact(touched)
}

// After each random change on one mount, every other mount's very next
// look at what changed agrees with the changer's. Every look leaves the
// looker's kernel caches warm, so a missed recall shows as a stale view.
func TestPromiseRandom(t *testing.T) {
	svc := testmount.StartServe(t, testmount.ServeOptions{})
	var ms []*testmount.Remote
	for range 3 {
		ms = append(ms, testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{}))
	}
	for _, d := range dirs[1:] {
		if err := os.Mkdir(path.Join(ms[0].Dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -ferry.seed=%d)", s, s)
	r := rand.New(rand.NewPCG(s, s^0x5eed))
	deadline := time.Now().Add(5 * time.Minute)
	for i := range *trials {
		if time.Now().After(deadline) {
			t.Logf("stopped after %d trials: time bound", i)
			break
		}
		actor := r.IntN(len(ms))
		desc, touched := change(r, ms[actor].Dir, i)
		for _, rel := range touched {
			// The others look first: their next syscall after the change.
			var seen []view
			for j := range ms {
				if j != actor {
					seen = append(seen, look(ms[j].Dir, rel))
				}
			}
			want := look(ms[actor].Dir, rel)
			for _, got := range seen {
				if got.String() != want.String() {
					t.Fatalf("seed %d trial %d: after %q on mount %d, %q is\n  %v\non another mount, but\n  %v\non the changer", s, i, desc, actor, rel, got, want)
				}
			}
		}
	}
}
