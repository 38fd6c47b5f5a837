// Package bench measures a directory — a Ferry mount or any other — and,
// optionally, a native directory in the same run, and reports each figure
// with its ratio to native.
//
// It owns two workloads:
//
//   - metadata: create N empty files in a fresh subdirectory, stat them all
//     twice, unlink them all; each reported in operations per second;
//   - data: write S bytes sequentially in 1 MiB writes and fsync, drop the
//     kernel page cache, read the file back in 1 MiB reads; each reported in
//     MiB per second.
//
// Every figure is the median of Config.Runs runs. Each run measures the
// directory under test and the native one back to back (which goes first
// alternates from run to run) so that noise on the machine falls on both.
// All metadata runs precede all data runs, so that no metadata figure is
// taken just after the page cache was dropped.
//
// Run is the only entry point that touches the file system; Format and
// FormatJSON render a Result; ParseSize, FormatSize and median are pure.
// Nothing in this package holds a lock.
package bench
