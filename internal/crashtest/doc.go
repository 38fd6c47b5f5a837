// Package crashtest holds Ferry's crash-consistency tests: a workload runs
// on the metadata service and data path until the store refuses its N-th
// write, the stores are cut back to what they had made durable, and the
// volume is reopened, checked with fsck and compared with what the workload
// had fsynced. The real-process variant kills `ferry mount` with SIGKILL.
package crashtest
