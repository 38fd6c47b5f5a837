package client

import (
	"log/slog"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

func newTestClient() *Client {
	return &Client{
		log:      slog.New(slog.DiscardHandler),
		refs:     make(map[uint64]uint64),
		names:    make(map[uint64][]entry),
		busy:     make(map[uint64]int),
		dropping: make(map[uint64]bool),
		opens:    make(map[uint64]int),
	}
}

func recallFrame(inos ...uint64) (wire.Header, []byte) {
	var r wire.Recall
	for _, ino := range inos {
		r.Items = append(r.Items, wire.RecallItem{Ino: ino, What: wire.ChangedAttr})
	}
	return wire.Header{Kind: wire.KindPush, Op: wire.OpRecall, ID: 1}, wire.Append(nil, &r)
}

// An answer is remembered only if no recall of its inode was seen while
// the call was out, only while the kernel holds the inode, and a recall
// or the client's own change drops it.
func TestLeasedCache(t *testing.T) {
	c := newTestClient()
	c.Looked(5)
	c.Looked(6)

	snap := c.cacheSnap()
	c.onPushSync(recallFrame(5)) // read from the connection while the call was out
	c.rememberNoXattr(5, "security.selinux", snap)
	if c.knownNoXattr(5, "security.selinux") {
		t.Fatal("an answer older than a recall of its inode was remembered")
	}
	c.rememberNoXattr(6, "security.selinux", snap) // another inode: unaffected
	if !c.knownNoXattr(6, "security.selinux") {
		t.Fatal("an answer about an inode nobody recalled was not remembered")
	}
	c.onPushSync(recallFrame(6))
	if c.knownNoXattr(6, "security.selinux") {
		t.Fatal("a recall did not drop what was remembered of its inode")
	}

	snap = c.cacheSnap()
	c.rememberNoXattr(7, "user.x", snap) // the kernel does not hold 7
	if c.knownNoXattr(7, "user.x") {
		t.Fatal("an answer about an inode the kernel does not hold was remembered")
	}

	dir := meta.Attr{Ino: 5, Mode: 0o40755, Nlink: 3}
	snap = c.cacheSnap()
	c.rememberDir(dir, snap)
	if a, ok := c.knownDir(5); !ok || a != dir {
		t.Fatalf("directory attributes not remembered: %+v %v", a, ok)
	}
	c.changedHere(5)
	if _, ok := c.knownDir(5); ok {
		t.Fatal("the client's own change did not drop a directory's attributes")
	}
	c.rememberDir(dir, c.cacheSnap())
	c.forgetDirs()
	if _, ok := c.knownDir(5); ok {
		t.Fatal("forgetDirs left a directory")
	}
	c.rememberDir(dir, c.cacheSnap())
	c.Forgot(5, 1)
	if _, ok := c.knownDir(5); ok {
		t.Fatal("the kernel forgot the directory, the client still answers for it")
	}
	c.rememberNoXattr(6, "a", c.cacheSnap())
	c.withdrawAll()
	if c.knownNoXattr(6, "a") {
		t.Fatal("withdrawing everything left a remembered answer")
	}
}

// A directory this client made answers lookups of names it never made
// without asking, keeps up with the client's own changes, and is dropped
// by a recall, a failed change or a rename.
func TestLeasedListing(t *testing.T) {
	c := newTestClient()
	snap := c.cacheSnap()
	c.startListing(10, snap)
	if !c.knownAbsent(10, "a") {
		t.Fatal("a new directory's listing does not answer")
	}
	c.listed(10, "a", true, nil)
	if c.knownAbsent(10, "a") {
		t.Fatal("a name this client made reads as absent")
	}
	c.listed(10, "a", false, nil)
	if !c.knownAbsent(10, "a") {
		t.Fatal("a name this client removed reads as present")
	}
	c.changedHere(10) // its own change to the directory's attributes
	if !c.knownAbsent(10, "b") {
		t.Fatal("the client's own change dropped the listing")
	}
	c.onPushSync(recallFrame(10))
	if c.knownAbsent(10, "b") {
		t.Fatal("a recall of the directory left its listing")
	}

	c.startListing(11, c.cacheSnap())
	c.listed(11, "x", true, syscall.EEXIST)
	if c.knownAbsent(11, "y") {
		t.Fatal("a failed change left the listing")
	}

	snap = c.cacheSnap()
	c.onPushSync(recallFrame(12)) // recalled while the mkdir was out
	c.startListing(12, snap)
	if c.knownAbsent(12, "z") {
		t.Fatal("a listing was started for a directory recalled meanwhile")
	}

	c.startListing(13, c.cacheSnap())
	c.startListing(14, c.cacheSnap())
	c.dropListings(13, 14)
	if c.knownAbsent(13, "q") || c.knownAbsent(14, "q") {
		t.Fatal("dropListings left a listing")
	}
}
