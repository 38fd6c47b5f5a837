package posixtest

import (
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// modelGen draws operations. It looks at the reference side to pick
// existing paths more often than not.
type modelGen struct {
	rng  *rand.Rand
	side *modelSide
}

var (
	modelNames  = []string{"a", "b", "c", "d"}
	modelModes  = []uint32{0o644, 0o600, 0o755, 0o700, 0o000, 0o444, 0o4755, 0o2755, 0o2644, 0o1777, 0o777, 0o6711}
	modelXattrs = []string{"user.x", "user.y", "user.long.name.of.an.attribute", "trusted.t"}
)

type weighted struct {
	w    int
	kind string
}

var modelKinds = []weighted{
	{8, "create"}, {12, "write"}, {6, "read"}, {5, "truncate"}, {6, "mkdir"}, {4, "rmdir"},
	{5, "unlink"}, {8, "rename"}, {3, "link"}, {3, "symlink"}, {2, "readlink"}, {2, "stat"},
	{1, "mkfifo"}, {3, "chmod"}, {2, "chown"}, {3, "utimens"}, {4, "setxattr"}, {2, "removexattr"},
	{2, "getxattr"}, {3, "readdir"}, {4, "open"}, {6, "fdwrite"}, {4, "fdread"}, {2, "fdtruncate"},
	{3, "close"}, {1, "fsync"},
}

func (g *modelGen) pick(n int) int { return g.rng.IntN(n) }

func (g *modelGen) next() modelOp {
	total := 0
	for _, k := range modelKinds {
		total += k.w
	}
	r := g.pick(total)
	var kind string
	for _, k := range modelKinds {
		if r < k.w {
			kind = k.kind
			break
		}
		r -= k.w
	}
	o := modelOp{kind: kind, slot: g.pick(modelSlots), seed: byte(g.pick(256))}
	switch kind {
	case "write", "read", "truncate", "link", "open":
		o.p1 = g.filePath()
	default:
		o.p1 = g.path()
	}
	switch kind {
	case "create":
		o.flags = []int{0, unix.O_EXCL, unix.O_TRUNC, unix.O_APPEND}[g.pick(4)]
		o.mode = modelModes[g.pick(len(modelModes))]
	case "write":
		o.flags = []int{0, 0, unix.O_APPEND, unix.O_TRUNC, unix.O_CREAT}[g.pick(5)]
		o.off, o.size = g.offset(), g.length()
	case "truncate", "fdtruncate":
		o.size = g.offset()
	case "mkdir", "mkfifo", "chmod":
		o.mode = modelModes[g.pick(len(modelModes))]
	case "rename":
		o.p2 = g.path()
		o.flags = []int{0, 0, 0, unix.RENAME_NOREPLACE, unix.RENAME_EXCHANGE}[g.pick(5)]
	case "link":
		o.p2 = g.path()
	case "symlink":
		o.p2 = g.target()
	case "chown":
		// Not both -1: Linux then still clears suid/sgid, but FUSE with
		// HANDLE_KILLPRIV(_V2) sends the file system nothing to act on.
		ids := []int{-1, 0, 1001, 2001}
		o.uid, o.gid = ids[g.pick(4)], ids[1+g.pick(3)]
		if g.pick(3) == 0 {
			o.uid, o.gid = ids[1+g.pick(3)], -1
		}
		o.flags = []int{0, unix.AT_SYMLINK_NOFOLLOW}[g.pick(2)]
	case "utimens":
		for i := range o.times {
			switch g.pick(5) {
			case 0:
				o.times[i] = unix.Timespec{Nsec: unix.UTIME_OMIT}
			default:
				o.times[i] = unix.Timespec{Sec: int64(g.pick(2_000_000_000)), Nsec: int64(g.pick(1_000_000_000))}
			}
		}
		o.flags = []int{0, unix.AT_SYMLINK_NOFOLLOW}[g.pick(2)]
	case "setxattr":
		o.name = modelXattrs[g.pick(len(modelXattrs))]
		o.value = strings.Repeat(string(rune('A'+g.pick(26))), g.pick(40))
		o.flags = []int{0, 0, unix.XATTR_CREATE, unix.XATTR_REPLACE}[g.pick(4)]
	case "removexattr", "getxattr":
		o.name = modelXattrs[g.pick(len(modelXattrs))]
	case "open":
		o.flags = []int{unix.O_RDWR, unix.O_RDONLY, unix.O_RDWR | unix.O_APPEND, unix.O_RDWR | unix.O_CREAT, unix.O_RDWR | unix.O_TRUNC}[g.pick(5)]
		o.mode = 0o644
	case "fdwrite":
		o.off, o.size = g.offset(), g.length()
		o.flags = g.pick(3) / 2 // a third of writes use write(2), the rest pwrite
	case "fdread":
		o.off, o.size = g.offset(), int64(1+g.pick(200000))
	}
	return o
}

// offset draws a file offset: mostly small, sometimes past 4 MiB.
func (g *modelGen) offset() int64 {
	switch r := g.pick(20); {
	case r < 14:
		return int64(g.pick(70000))
	case r < 19:
		return int64(g.pick(4<<20 + 70000))
	default:
		return int64(g.pick(6 << 20))
	}
}

func (g *modelGen) length() int64 {
	if g.pick(10) == 0 {
		return int64(g.pick(1<<20) + 1)
	}
	return int64(g.pick(20000) + 1)
}

// filePath draws an existing regular file most of the time.
func (g *modelGen) filePath() string {
	var files []string
	filepath.WalkDir(g.side.root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(g.side.root, p)
			files = append(files, rel)
		}
		return nil
	})
	if len(files) > 0 && g.pick(4) != 0 {
		return files[g.pick(len(files))]
	}
	return g.path()
}

// path draws a path: an existing entry, a new name in an existing
// directory, or a few random components (which may go through symlinks,
// files or missing directories).
func (g *modelGen) path() string {
	var entries, dirs []string
	dirs = append(dirs, "")
	filepath.WalkDir(g.side.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == g.side.root {
			return nil
		}
		rel, _ := filepath.Rel(g.side.root, p)
		entries = append(entries, rel)
		if d.IsDir() {
			dirs = append(dirs, rel)
		}
		return nil
	})
	name := modelNames[g.pick(len(modelNames))]
	switch r := g.pick(10); {
	case r < 6 && len(entries) > 0:
		return entries[g.pick(len(entries))]
	case r < 9:
		d := dirs[g.pick(len(dirs))]
		if strings.Count(d, "/") >= 2 {
			d = ""
		}
		return filepath.Join(d, name)
	default:
		parts := make([]string, 1+g.pick(3))
		for i := range parts {
			parts[i] = modelNames[g.pick(len(modelNames))]
		}
		return filepath.Join(parts...)
	}
}

// target draws a symlink target. None leaves the tree: no "..", and
// absolute targets name nothing.
func (g *modelGen) target() string {
	switch g.pick(6) {
	case 0:
		return "/nonexistent/ferry-model"
	case 1:
		return modelNames[g.pick(len(modelNames))] + "/" + modelNames[g.pick(len(modelNames))]
	default:
		return modelNames[g.pick(len(modelNames))]
	}
}
