// Package chunk is the client's data path. It owns the mapping of file
// contents onto immutable objects: the layout types and their pure
// functions (layout.go), the object format (object.go), write-back
// buffering with bounded memory (write.go), background uploads
// (upload.go), commits of uploaded pieces to the metadata service
// (flush.go, compact.go), reads through a bounded object cache with
// read-ahead (read.go, view.go, cache.go).
//
// A file is cut into blocks of Options.BlockSize bytes. The metadata
// service keeps, per block, sorted non-overlapping pieces naming ranges of
// objects; an object belongs to one block of one file and is never
// rewritten. Writes are buffered per inode and block as extents; a block
// whose extents are sealed (because it is full, memory is short, or Flush
// runs) uploads each extent as one object in the background. Flush waits
// for the uploads and commits all their pieces with one CommitWrite. Until
// then reads see committed pieces, sealed data or pieces, and dirty
// extents laid over each other in that order.
//
// Callers call Invalidate when the kernel forgets an inode (it releases the
// state of an inode with nothing buffered) and when another client changed
// the file. Uploaded objects are referenced by nothing until their commit,
// so a collector of unreferenced objects must spare recent ones.
//
// # Locking
//
// Lock order, outermost first:
//
//	inode.flushMu  serializes Flush and Truncate of one inode; held across
//	               blob and layout calls (a Flush waits for its uploads,
//	               compacts, commits and deletes shadowed objects under it,
//	               and a read whose layout fetch keeps racing with commits
//	               fetches under it)
//	inode.mu       per-inode state: buffers, sealed blocks, cached layout;
//	               never held across a blob or layout call
//	objectCache.mu cache maps and LRU           } leaves: taken under
//	Store.mu       inode map, memory accounting } inode.mu or alone,
//	               and the dirty block list     } never one under the other
//
// Store.idMu stands alone: it is held across NewObjectIDs (so that one
// caller refills the batch of ids) and taken with no other lock held.
//
// A writer never waits for memory while holding a lock or a reservation.
// Data in dirty blocks is mutable and readers copy it under inode.mu; data
// of sealed blocks is immutable, and the running upload owns their ids.
package chunk
