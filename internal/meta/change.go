package meta

import (
	"slices"
	"sort"
)

// Change is what one committed transaction changed about one inode.
type Change struct {
	Ino   uint64
	Attr  bool     // the inode record: attributes, size, link count
	Data  bool     // the block layout: contents
	Gone  bool     // the inode was deleted
	Names []string // for a directory: entries added, removed or replaced
}

// changeSet collects the changes of a transaction; with a nil map it
// collects nothing (nobody listens).
type changeSet struct {
	m map[uint64]*Change
}

func (c *changeSet) get(ino uint64) *Change {
	ch := c.m[ino]
	if ch == nil {
		ch = &Change{Ino: ino}
		c.m[ino] = ch
	}
	return ch
}

func (c *changeSet) attr(ino uint64) {
	if c.m != nil {
		c.get(ino).Attr = true
	}
}

func (c *changeSet) data(ino uint64) {
	if c.m != nil {
		c.get(ino).Data = true
	}
}

func (c *changeSet) gone(ino uint64) {
	if c.m != nil {
		c.get(ino).Gone = true
	}
}

func (c *changeSet) name(dir uint64, name string) {
	if c.m != nil {
		ch := c.get(dir)
		if !slices.Contains(ch.Names, name) {
			ch.Names = append(ch.Names, name)
		}
	}
}

// list returns the changes ordered by inode.
func (c changeSet) list() []Change {
	out := make([]Change, 0, len(c.m))
	for _, ch := range c.m {
		out = append(out, *ch)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ino < out[j].Ino })
	return out
}
