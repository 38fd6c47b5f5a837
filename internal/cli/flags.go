package cli

import (
	"flag"
	"fmt"
	"log/slog"
)

// newFlags returns a flag set for one subcommand whose usage message
// shows the synopsis and the flags.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("ferry "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ferry %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses args with fs, allowing flags before, between and after
// the positional arguments ("ferry mount VOL MNT -d"), and checks that
// there are exactly want positional arguments. After "--" everything is
// positional.
func parseArgs(fs *flag.FlagSet, args []string, want int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, errUsage // the flag package printed the error and usage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) != want {
		what := "too many arguments"
		if len(pos) < want {
			what = "missing arguments"
		}
		fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), what)
		fs.Usage()
		return nil, errUsage
	}
	return pos, nil
}

// logLevelFlag adds --log-level.
func logLevelFlag(fs *flag.FlagSet, def slog.Level) *slog.Level {
	lvl := new(slog.Level)
	fs.TextVar(lvl, "log-level", def, "log level: debug, info, warn or error")
	return lvl
}
