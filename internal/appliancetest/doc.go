// Package appliancetest runs real `ferry serve` processes with several
// real FUSE mounts of their volume and checks Ferry's promise across
// them: once a syscall that changed the namespace or attributes returns
// on one mount, every other mount sees the change on its very next
// syscall; data is close-to-open, and a writer is made to flush when
// another client opens its file. It also kills the service and clients
// mid-workload.
package appliancetest
