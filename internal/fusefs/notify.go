package fusefs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// Kernel cache invalidations are written to /dev/fuse by one worker
// goroutine, never by a request handler. The kernel applies a
// notification under the locks the invalidated object needs: the parent
// directory's inode lock for an entry, the page locks for a data range.
// A handler runs while the kernel holds such locks for the request it
// serves (a LOOKUP or CREATE holds the parent's lock, a READ holds pages);
// if that handler wrote a notification for the same object, the write
// would wait for the lock, the request would never be answered, and the
// lock would never be released: a deadlock. Handlers (and lease recalls,
// which may arrive while handlers run) only queue notifications.

// notifier is what the worker writes through: *fuse.Server.
type notifier interface {
	InodeNotify(node uint64, off int64, length int64) fuse.Status
	EntryNotify(parent uint64, name string) fuse.Status
	DeleteNotify(parent uint64, child uint64, name string) fuse.Status
}

type noticeKind int

const (
	noticeInode noticeKind = iota
	noticeEntry
	noticeDelete
)

type notice struct {
	kind        noticeKind
	ino, parent uint64
	name        string
	off, length int64
	tries       int           // deliveries that found the inode not yet known
	done        chan struct{} // closed once delivered (or dropped); may be nil
}

// An inode invalidation that finds the kernel without the inode is
// retried while the inode is being handed to the kernel (a reply that
// names it is on its way, and may carry what the invalidation is about):
// see notifyQueue.handing.
const (
	maxNoticeTries = 50
	noticeRetry    = time.Millisecond
)

// notifyQueue is an unbounded FIFO of notices and the worker draining it.
// Its size is bounded by what the callers hold (one recall per lease).
type notifyQueue struct {
	log *slog.Logger
	// handing reports whether a reply handing the kernel ino may not
	// have reached it yet; nil means never.
	handing func(ino uint64) bool

	mu        sync.Mutex
	target    notifier // nil until the mount is up
	q         []notice
	lanes     map[uint64][]notice // entry notices per parent directory (notify_lanes.go)
	queued    uint64              // notices ever queued
	delivered uint64              // notices handed to the kernel (or dropped)
	progress  chan struct{}       // closed and replaced when delivered grows
	stopped   bool
	wake      chan struct{} // capacity 1
	done      chan struct{} // closed when the worker exits

	counts noticeCounts // stats.go
}

func newNotifyQueue(log *slog.Logger) *notifyQueue {
	return &notifyQueue{
		log:      log,
		progress: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
}

// start runs the worker, writing to t.
func (n *notifyQueue) start(t notifier) {
	n.mu.Lock()
	n.target = t
	n.mu.Unlock()
	go n.run()
}

// push queues a notice; after stop it is dropped.
func (n *notifyQueue) push(x notice) {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return
	}
	n.queued++
	if (x.kind == noticeEntry || x.kind == noticeDelete) && n.target != nil {
		n.pushLaneLocked(x)
		n.mu.Unlock()
		return
	}
	n.q = append(n.q, x)
	select { // under mu: stop closes wake under mu
	case n.wake <- struct{}{}:
	default:
	}
	n.mu.Unlock()
}

// stop ends the worker; queued notices are dropped (the kernel's caches
// are gone with the mount). It waits for the worker if it was started.
func (n *notifyQueue) stop() {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return
	}
	n.stopped = true
	started := n.target != nil
	n.delivered = n.queued
	for _, x := range n.q {
		x.finish()
	}
	for _, xs := range n.lanes {
		for _, x := range xs {
			x.finish()
		}
	}
	n.q, n.lanes = nil, nil
	close(n.progress)
	n.progress = make(chan struct{})
	close(n.wake)
	n.mu.Unlock()
	if started {
		<-n.done
	}
}

// drain waits until every notice queued before the call has been handed
// to the kernel (or the queue stopped).
func (n *notifyQueue) drain(ctx context.Context) error {
	n.mu.Lock()
	target := n.queued
	for n.delivered < target && !n.stopped {
		ch := n.progress
		n.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		n.mu.Lock()
	}
	n.mu.Unlock()
	return nil
}

func (n *notifyQueue) run() {
	defer close(n.done)
	for range n.wake {
		for {
			n.mu.Lock()
			if n.stopped || len(n.q) == 0 {
				n.mu.Unlock()
				break
			}
			batch := n.q
			n.q = nil
			t := n.target
			n.mu.Unlock()

			retried := false
			for _, x := range batch {
				if st := n.deliver(t, x); n.retry(x, st) {
					// Queued again, counted again: delivered counts it
					// with the batch it goes out with.
					x.tries++
					n.mu.Lock()
					if !n.stopped {
						n.q = append(n.q, x)
						n.queued++
						retried = true
						n.mu.Unlock()
						continue
					}
					n.mu.Unlock()
				}
				x.finish()
			}
			if retried {
				time.Sleep(noticeRetry)
			}

			n.mu.Lock()
			if !n.stopped {
				n.delivered += uint64(len(batch))
				close(n.progress)
				n.progress = make(chan struct{})
			}
			n.mu.Unlock()
		}
	}
}

// retry reports whether x, delivered with status st, is to go again: an
// inode invalidation that found the kernel without the inode while a
// reply handing it the inode may be on its way.
func (n *notifyQueue) retry(x notice, st fuse.Status) bool {
	return st == fuse.ENOENT && x.kind == noticeInode && n.handing != nil &&
		x.tries < maxNoticeTries && n.handing(x.ino)
}

func (n *notifyQueue) deliver(t notifier, x notice) fuse.Status {
	var st fuse.Status
	switch x.kind {
	case noticeInode:
		st = t.InodeNotify(x.ino, x.off, x.length)
	case noticeEntry:
		st = t.EntryNotify(x.parent, x.name)
	case noticeDelete:
		st = t.DeleteNotify(x.parent, x.ino, x.name)
	}
	n.counts.count(x.kind, st)
	// ENOENT: the kernel holds nothing of it, which is what was wanted.
	if st != fuse.OK && st != fuse.ENOENT {
		n.log.Warn("fuse: notification failed", "kind", int(x.kind), "ino", x.ino, "parent", x.parent, "name", x.name, "status", st)
	}
	return st
}
