package kv

// Backends live in subpackages: memkv (the in-memory reference), pebblekv
// (the embedded default) and bboltkv (kept for comparison; see the
// benchmark figures in pebblekv's package documentation). Each passes the
// conformance suite in kvtest, which is the executable form of the contract
// written on Store, Txn and Reader.
