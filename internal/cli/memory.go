package cli

import (
	"os"
	"runtime/debug"
	"syscall"
)

// mallocArenas caps glibc's malloc arenas for a long-running mount: the
// metadata store's block cache lives in C memory when Ferry is built with
// cgo, and glibc's default of up to eight arenas per core keeps freed
// memory resident. Measured in internal/kv/pebblekv: 149 MiB resident with
// the default, 113 MiB with 2.
const mallocArenas = "2"

// reexecForMalloc restarts the process with MALLOC_ARENA_MAX set (glibc
// reads it once, before main), unless it is set already. It returns only
// if it did not exec.
func reexecForMalloc() {
	if os.Getenv("MALLOC_ARENA_MAX") != "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), "MALLOC_ARENA_MAX="+mallocArenas)
	_ = syscall.Exec(exe, os.Args, env) // on failure carry on as we are
}

// limitGoMemory sets the Go runtime's soft memory limit to what the data
// path may hold plus headroom, unless GOMEMLIMIT says otherwise, so that
// garbage does not push the mount's resident size past its budget.
func limitGoMemory(dataBytes int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	const headroom = 64 << 20 // FUSE buffers, metadata, the runtime
	debug.SetMemoryLimit(dataBytes + headroom)
}
