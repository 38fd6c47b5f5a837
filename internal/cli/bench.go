package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ferryfs/ferry/internal/bench"
)

const benchUsage = `usage: ferry bench DIR [--vs NATIVE_DIR] [flags]

Measures metadata operations and sequential I/O in DIR (a Ferry mount or any
directory) and, with --vs, in NATIVE_DIR in the same run, and prints each
figure with its ratio to native. Flags may come before or after DIR.

flags:
`

// runBench implements "ferry bench": it parses args into a bench.Config,
// runs the benchmark with progress on stderr and prints the result on
// stdout.
func runBench(ctx context.Context, args []string) error {
	cfg, asJSON, err := parseBenchArgs(args, os.Stderr)
	if err != nil {
		return err
	}
	res, err := bench.Run(ctx, cfg, os.Stderr)
	if err != nil {
		return err
	}
	if asJSON {
		return bench.FormatJSON(res, os.Stdout)
	}
	return bench.Format(res, os.Stdout)
}

// parseBenchArgs turns the arguments of "ferry bench" into a validated
// Config and whether to print JSON. Usage problems are printed on stderr
// and returned as errUsage.
func parseBenchArgs(args []string, stderr io.Writer) (bench.Config, bool, error) {
	cfg := bench.Config{
		Files: bench.DefaultFiles,
		Size:  bench.DefaultSize,
		Runs:  bench.DefaultRuns,
	}
	var asJSON bool

	fs := flag.NewFlagSet("ferry bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.NativeDir, "vs", "", "also measure native directory `NATIVE_DIR` and show ratios to it")
	fs.IntVar(&cfg.Files, "files", cfg.Files, "number of files of the metadata workload")
	fs.Func("size", "write and read `SIZE` bytes in the data workload, e.g. 1G or 256M (default 1G)", func(s string) error {
		n, err := bench.ParseSize(s)
		if err != nil {
			return err
		}
		cfg.Size = n
		return nil
	})
	fs.IntVar(&cfg.Runs, "runs", cfg.Runs, "runs per figure; the median is reported")
	fs.StringVar(&cfg.Only, "only", "", "run only one workload, `WORKLOAD` meta or data")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	fs.IntVar(&cfg.PID, "pid", 0, "report the peak RSS of process `PID` (e.g. ferry mount) at the end")
	fs.BoolVar(&cfg.KeepCaches, "warm", false, "do not drop the page cache before reads (read figures are warm)")

	pos, err := parseArgs(fs, args, 1)
	if err != nil {
		return cfg, false, err
	}
	cfg.Dir = pos[0]
	// Config reads zero as "default"; on the command line zero is a mistake.
	switch {
	case cfg.Files < 1:
		err = fmt.Errorf("%w: --files must be at least 1, not %d", bench.ErrConfig, cfg.Files)
	case cfg.Runs < 1:
		err = fmt.Errorf("%w: --runs must be at least 1, not %d", bench.ErrConfig, cfg.Runs)
	default:
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(fs.Output(), "%s: %v\n", fs.Name(), err)
		fs.Usage()
		return cfg, false, fmt.Errorf("%w: %w", errUsage, err)
	}
	return cfg, asJSON, nil
}
