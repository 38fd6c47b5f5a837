// Package testmount gives tests a live Ferry mount: a fresh volume in a
// temporary directory served over FUSE by the test process itself,
// through the same code the ferry command uses (internal/volume/mount).
//
// Tests that need FUSE call RequireFUSE (New does): without /dev/fuse, or
// without root and fusermount3, the test is skipped, except under
// CI=true, where it fails.
package testmount
