// Package meta is Ferry's metadata service: POSIX namespace semantics
// (lookup, create, link, unlink, rename with all flags, attributes,
// permissions, xattrs, directory listing) and the file → object layout,
// written once over the transactional key-value interface of package kv.
//
// Every mutation is one kv transaction; every record carries a CRC-32C of its
// key and payload. Inode and object numbers are handed out from ranges
// reserved in the store. Objects that no piece references any more are
// recorded as garbage in the same transaction that drops them and deleted
// afterwards by a background reaper; files unlinked while open are recorded
// as orphans and purged at their last Release, or when the service next
// starts.
//
// The flock and fcntl locks of the service's client sessions are records
// too (locks.go, with the arithmetic of package locks): a lock change is
// a transaction, and a session's locks go with it (CloseSession).
//
// Errors are *Error values carrying the operation, the inode and name, and a
// syscall.Errno kind.
package meta
