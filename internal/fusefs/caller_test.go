package fusefs

import (
	"errors"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

const sampleStatus = `Name:	bash
Umask:	0022
State:	S (sleeping)
Tgid:	4242
Pid:	4242
Uid:	1000	1000	1000	1000
Gid:	1000	1000	1000	1000
FDSize:	256
Groups:	4 24 27 1000 
NStgid:	4242
`

func TestParseGroups(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  string
		want    []uint32
		wantErr bool
	}{
		{"several", sampleStatus, []uint32{4, 24, 27, 1000}, false},
		{"none", "Uid:\t0\t0\t0\t0\nGroups:\t\nNStgid:\t1\n", []uint32{}, false},
		{"max id", "Groups:\t4294967295\n", []uint32{4294967295}, false},
		{"no line", "Name:\tx\nUid:\t0\n", nil, true},
		{"bad id", "Groups:\t12 x3\n", nil, true},
		{"too big", "Groups:\t4294967296\n", nil, true},
		{"empty", "", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseGroups([]byte(tc.status))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !slices.Equal(got, tc.want) {
				t.Fatalf("groups = %v, want %v", got, tc.want)
			}
		})
	}
}

// The groups read from /proc for this process are the ones getgroups(2)
// returns.
func TestReadProcGroupsSelf(t *testing.T) {
	got, err := readProcGroups(uint32(syscall.Gettid()))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	var w []uint32
	for _, g := range want {
		w = append(w, uint32(g))
	}
	slices.Sort(got)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Fatalf("groups from /proc = %v, getgroups = %v", got, w)
	}
	if _, err := readProcGroups(1 << 30); err == nil {
		t.Fatal("reading the groups of a pid that does not exist succeeded")
	}
}

func TestGroupCache(t *testing.T) {
	now := time.Unix(1000, 0)
	reads := map[uint32]int{}
	fail := map[uint32]bool{}
	g := newGroupCache(func() time.Time { return now }, func(pid uint32) ([]uint32, error) {
		reads[pid]++
		if fail[pid] {
			return nil, errors.New("gone")
		}
		return []uint32{pid, uint32(reads[pid])}, nil
	})

	if got := g.get(0); got != nil || len(reads) != 0 {
		t.Fatalf("pid 0: groups %v, reads %v", got, reads)
	}
	if got := g.get(7); !slices.Equal(got, []uint32{7, 1}) {
		t.Fatalf("first get = %v", got)
	}
	now = now.Add(groupsTTL - time.Nanosecond)
	if got := g.get(7); !slices.Equal(got, []uint32{7, 1}) || reads[7] != 1 {
		t.Fatalf("within TTL: %v after %d reads", got, reads[7])
	}
	now = now.Add(time.Nanosecond)
	if got := g.get(7); !slices.Equal(got, []uint32{7, 2}) || reads[7] != 2 {
		t.Fatalf("after TTL: %v after %d reads", got, reads[7])
	}

	fail[8] = true
	if got := g.get(8); got != nil {
		t.Fatalf("unreadable pid: %v", got)
	}
	if g.get(8); reads[8] != 2 {
		t.Fatalf("a failed read was cached: %d reads", reads[8])
	}

	// The cache stays bounded.
	for pid := uint32(100); pid < 100+2*groupsMax; pid++ {
		g.get(pid)
	}
	if n := len(g.m); n > groupsMax {
		t.Fatalf("cache holds %d entries, limit %d", n, groupsMax)
	}
}

func TestCallerGroups(t *testing.T) {
	f, _, _ := testFS(t, Options{})
	h := hdr(1)
	c := f.caller(&h)
	if c.UID != 1000 || c.GID != 1000 || c.PID != 42 || !slices.Equal(c.Groups, []uint32{100, 200}) {
		t.Fatalf("caller = %+v", c)
	}
	root := fuse.InHeader{Caller: fuse.Caller{Pid: 42}}
	if c := f.caller(&root); c.Groups != nil {
		t.Fatalf("root caller read groups: %+v", c)
	}
}
