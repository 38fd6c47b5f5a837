package fusefs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The kernel sends the caller's fsuid, fsgid and thread id with every
// request, but not its supplementary groups. Those are read from
// /proc/<tid>/status and cached per thread id for a short while: a burst
// of requests from one process costs one read, and a setgroups(2) or a
// reused id is seen again after groupsTTL.
const (
	groupsTTL = time.Second
	groupsMax = 4096 // cached thread ids; the cache is emptied when full
)

// groupCache maps a thread id to its supplementary groups.
type groupCache struct {
	now  func() time.Time
	read func(pid uint32) ([]uint32, error)

	mu sync.Mutex
	m  map[uint32]groupEntry
}

type groupEntry struct {
	groups  []uint32
	expires time.Time
}

func newGroupCache(now func() time.Time, read func(pid uint32) ([]uint32, error)) *groupCache {
	return &groupCache{now: now, read: read, m: make(map[uint32]groupEntry)}
}

// get returns the supplementary groups of pid; none for pid 0 (a request
// the kernel makes on its own behalf) or when they cannot be read (the
// process is gone). The slice is shared: callers must not modify it.
func (g *groupCache) get(pid uint32) []uint32 {
	if pid == 0 {
		return nil
	}
	now := g.now()
	g.mu.Lock()
	e, ok := g.m[pid]
	g.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.groups
	}
	groups, err := g.read(pid)
	if err != nil {
		return nil
	}
	g.mu.Lock()
	if len(g.m) >= groupsMax {
		for k, v := range g.m {
			if !now.Before(v.expires) {
				delete(g.m, k)
			}
		}
		if len(g.m) >= groupsMax {
			clear(g.m)
		}
	}
	g.m[pid] = groupEntry{groups: groups, expires: now.Add(groupsTTL)}
	g.mu.Unlock()
	return groups
}

// readProcGroups reads the supplementary groups of pid from /proc.
func readProcGroups(pid uint32) ([]uint32, error) {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/status")
	if err != nil {
		return nil, err
	}
	return parseGroups(b)
}

// parseGroups extracts the "Groups:" line of a /proc/<pid>/status file.
func parseGroups(status []byte) ([]uint32, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("Groups:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		groups := make([]uint32, 0, len(fields))
		for _, f := range fields {
			n, err := strconv.ParseUint(string(f), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("parse groups: bad group id %q", f)
			}
			groups = append(groups, uint32(n))
		}
		return groups, nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse groups: %w", err)
	}
	return nil, fmt.Errorf("parse groups: no Groups line")
}

// caller builds the identity of the process behind a request. Root's
// supplementary groups are not read: no check of meta depends on them.
func (f *fileSystem) caller(h *fuse.InHeader) meta.Caller {
	c := meta.Caller{UID: h.Uid, GID: h.Gid, PID: h.Pid}
	if h.Uid != 0 {
		c.Groups = f.groups.get(h.Pid)
	}
	return c
}
