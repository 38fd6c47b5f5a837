package fusefs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// recorder is a notifier that records calls; it blocks while gate is
// held, to show that pushing never waits for the kernel.
type recorder struct {
	gate  sync.Mutex
	mu    sync.Mutex
	calls []string
}

func (r *recorder) log(s string) fuse.Status {
	r.gate.Lock()
	defer r.gate.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
	return fuse.OK
}

func (r *recorder) InodeNotify(node uint64, off, length int64) fuse.Status {
	return r.log(fmt.Sprintf("inode %d %d %d", node, off, length))
}

func (r *recorder) EntryNotify(parent uint64, name string) fuse.Status {
	return r.log(fmt.Sprintf("entry %d %s", parent, name))
}

func (r *recorder) DeleteNotify(parent, child uint64, name string) fuse.Status {
	return r.log(fmt.Sprintf("delete %d %d %s", parent, child, name))
}

func TestNotifyQueue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := &recorder{}
	n := newNotifyQueue(slog.New(slog.DiscardHandler))
	s := &Server{notify: n}

	// Queued before the mount is up: delivered once it is.
	s.InvalidateEntry(1, "early")
	n.start(r)

	r.gate.Lock() // the kernel is slow; pushes still return
	s.InvalidateInode(5, -1, 0)
	s.NotifyDelete(1, 5, "gone")
	for i := range 100 {
		s.InvalidateEntry(2, fmt.Sprint(i))
	}
	short, stop := context.WithTimeout(ctx, 10*time.Millisecond)
	if err := s.DrainNotify(short); err == nil {
		t.Fatal("drain returned while the kernel was blocked")
	}
	stop()
	r.gate.Unlock()

	if err := s.DrainNotify(ctx); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	got := r.calls
	r.mu.Unlock()
	// Every notice arrives once; entries of one parent in the order they
	// were queued (each parent has its lane; lanes and inode notices do
	// not wait for each other).
	if len(got) != 103 || !slices.Contains(got, "entry 1 early") || !slices.Contains(got, "inode 5 -1 0") || !slices.Contains(got, "delete 1 5 gone") {
		t.Fatalf("delivered %d: %v", len(got), got)
	}
	next := 0
	for _, c := range got {
		if strings.HasPrefix(c, "entry 2 ") {
			if c != fmt.Sprintf("entry 2 %d", next) {
				t.Fatalf("entries of one parent out of order: %q where %d was next: %v", c, next, got)
			}
			next++
		}
	}

	n.stop()
	s.InvalidateEntry(3, "after")
	if err := s.DrainNotify(ctx); err != nil {
		t.Fatalf("drain after stop: %v", err)
	}
	n.stop() // idempotent
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) != 103 {
		t.Fatalf("delivered after stop: %v", r.calls[103:])
	}
}

func TestNotifyStopUnstarted(t *testing.T) {
	n := newNotifyQueue(slog.New(slog.DiscardHandler))
	n.push(notice{kind: noticeEntry, parent: 1, name: "x"})
	n.stop() // must not wait for a worker that never ran
	if err := n.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// blockingEntries blocks entry notices of one parent until released, as
// the kernel does while a request holds that directory's lock.
type blockingEntries struct {
	recorder
	parent  uint64
	release chan struct{}
}

func (b *blockingEntries) EntryNotify(parent uint64, name string) fuse.Status {
	if parent == b.parent {
		<-b.release
	}
	return b.recorder.EntryNotify(parent, name)
}

// An entry notice waiting for its directory holds up neither inode
// notices nor entry notices of other directories.
func TestNotifyLanes(t *testing.T) {
	b := &blockingEntries{parent: 7, release: make(chan struct{})}
	n := newNotifyQueue(slog.New(slog.DiscardHandler))
	s := &Server{notify: n}
	n.start(b)
	defer n.stop()
	stuck := s.InvalidateEntry(7, "locked")
	for _, done := range []<-chan struct{}{s.InvalidateInode(9, 0, 0), s.InvalidateEntry(8, "free")} {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a notice waited behind an entry notice of another directory")
		}
	}
	select {
	case <-stuck:
		t.Fatal("the blocked entry notice was reported delivered")
	default:
	}
	close(b.release)
	select {
	case <-stuck:
	case <-time.After(10 * time.Second):
		t.Fatal("the entry notice was not delivered once its directory was free")
	}
}
