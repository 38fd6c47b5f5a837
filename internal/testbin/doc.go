// Package testbin builds the ferry binary for tests that run it as a
// process: once per test process, from the module that contains the
// test's working directory, with the race detector when the test has it.
package testbin
