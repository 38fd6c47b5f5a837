// Package metered is a blob.Store decorator that counts the calls and
// bytes that pass through it, for metrics: bytes written (Put), bytes
// read (Get), and calls by kind, failed ones included. Counting costs
// atomic adds and nothing else; the store beneath sees every call
// unchanged, Sync included.
package metered
