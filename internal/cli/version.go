package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the program's version, set at link time with
// -ldflags "-X github.com/ferryfs/ferry/internal/cli.Version=v1.2.3".
var Version = ""

func cmdVersion(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "version", "")
	if _, err := parseArgs(fl, args, 0); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ferry %s %s %s/%s\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
