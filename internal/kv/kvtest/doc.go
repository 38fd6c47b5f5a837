// Package kvtest is the conformance suite every kv.Store backend must pass.
//
// A backend runs it from a short test file:
//
//	func TestConformance(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T) kv.Store { return openMyStore(t) })
//	}
//
// open is called once per subtest with that subtest's *testing.T, must
// return an empty store, and should register a t.Cleanup that closes it
// (subtests may close the store themselves first, so Close must tolerate
// being called twice). Subtests run in parallel, each on its own store.
//
// The suite checks what kv.Store promises and nothing more: point reads and
// writes, ordered range scans over binary keys, read-your-writes inside
// Update, all-or-nothing commits, snapshot isolation of View, serializability
// under concurrent Updates, copying of caller buffers, context cancellation
// and ErrClosed. Empty keys are outside the contract and are not exercised.
package kvtest
