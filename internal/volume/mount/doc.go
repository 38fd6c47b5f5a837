// Package mount serves an open volume over FUSE in this process: it builds
// the data path (chunk.Store) over the volume's stores, mounts the FUSE
// adapter, and shuts the pair down in the one order that loses nothing:
// unmount (the kernel sends its last requests), flush buffered writes,
// make objects and metadata durable, stop the data path.
//
// The ferry command and the test harness both mount through here, so
// what tests exercise is what users run. The package does not own the
// volume: callers close it after Close.
package mount
