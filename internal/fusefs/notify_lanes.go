package fusefs

// Entry notices wait for their directory's inode lock in the kernel, and
// a request of this mount that holds that lock (a create in the
// directory, say) may itself wait for the service, which waits for
// another client's recall acknowledgement, which may wait for this
// mount's own notices. So an entry notice must never hold up notices of
// other objects: each parent directory has a lane of its own, drained by
// a goroutine that lives while the lane has notices. Inode notices take
// no directory lock and go through the main worker.

// finish marks x delivered (or dropped) for whoever waits on it.
func (x notice) finish() {
	if x.done != nil {
		close(x.done)
	}
}

// pushLaneLocked queues an entry notice on its parent's lane; the caller
// holds n.mu and has counted it in queued.
func (n *notifyQueue) pushLaneLocked(x notice) {
	if n.lanes == nil {
		n.lanes = make(map[uint64][]notice)
	}
	q, running := n.lanes[x.parent]
	n.lanes[x.parent] = append(q, x)
	if !running {
		go n.runLane(x.parent, n.target)
	}
}

// runLane delivers the notices of one parent's lane until it is empty.
func (n *notifyQueue) runLane(parent uint64, t notifier) {
	for {
		n.mu.Lock()
		batch := n.lanes[parent]
		if n.stopped || len(batch) == 0 {
			if !n.stopped {
				delete(n.lanes, parent)
			}
			n.mu.Unlock()
			return
		}
		n.lanes[parent] = batch[:0:0] // keeps the lane marked running
		n.mu.Unlock()
		for _, x := range batch {
			n.deliver(t, x)
			x.finish()
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
