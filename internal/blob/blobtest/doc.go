// Package blobtest is the conformance suite every blob.Store backend runs
// from a short test file:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { return memblob.New() })
//	}
//
// It checks the contract written in blob.Store: whole and ranged reads,
// ErrNotFound, idempotent Delete, List order, prefixes and early stop, empty
// and large objects, concurrent use, key validation, buffer ownership,
// canceled contexts, and Sync on stores that implement blob.Syncer.
package blobtest
