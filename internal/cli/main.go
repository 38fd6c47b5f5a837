package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// errUsage is returned after a usage message has been printed.
var errUsage = errors.New("usage")

// env is what a subcommand may touch besides its arguments.
type env struct {
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	args    string // positional arguments, for the command list
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"format", "VOL|--meta URL NAME", "make a new, empty volume", cmdFormat},
		{"mount", "VOL|ferry://HOST:PORT MNT", "serve VOL on MNT (formats it on first use) or mount a service's volume", cmdMount},
		{"serve", "VOL|--meta URL --listen ADDR", "serve a volume to clients over the network", cmdServe},
		{"certs", "KIND DIR", "make a CA, a server or client certificate, or a token", cmdCerts},
		{"status", "VOL|--meta URL", "describe a volume", cmdStatus},
		{"stats", "MNT|ferry://HOST:PORT", "show what a mount or service does, live", cmdStats},
		{"fsck", "VOL|--meta URL", "check metadata against objects", cmdFsck},
		{"gc", "VOL|--meta URL", "delete objects nothing references", cmdGC},
		{"bench", "DIR", "measure file system operations in DIR", func(ctx context.Context, _ *env, args []string) error {
			return runBench(ctx, args)
		}},
		{"version", "", "print the version", cmdVersion},
	}
}

// Main runs the ferry command with os.Args-style args and returns the exit
// code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr}, args[1:])
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(e.stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errUsage):
			return exitUsage
		}
		fmt.Fprintf(e.stderr, "ferry: %s: %s\n", name, oneLine(err))
		return exitFail
	}
	fmt.Fprintf(e.stderr, "ferry: unknown command %q\n", name)
	usage(e.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: ferry COMMAND [ARGS]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-36s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintf(w, "\nRun \"ferry COMMAND -h\" for a command's arguments.\n")
}

// oneLine flattens an error message onto one line.
func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ; ")), " ")
}
