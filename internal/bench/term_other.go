//go:build !linux

package bench

import "io"

// isTerminal reports false: the progress bar is drawn on Linux only.
func isTerminal(io.Writer) bool { return false }
