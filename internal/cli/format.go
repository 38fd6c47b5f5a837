package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ferryfs/ferry/internal/bench"
	"github.com/ferryfs/ferry/internal/volume"
)

type formatOptions struct {
	dir       string
	blockSize int
}

func cmdFormat(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "format", "VOL [--block-size SIZE] | --meta URL --data URL [--block-size SIZE] NAME")
	o := formatOptions{blockSize: volume.DefaultBlockSize}
	var metaURL, data string
	fl.StringVar(&metaURL, "meta", "", "make the volume in this metadata engine (postgres://USER@HOST/DB), named NAME")
	fl.StringVar(&data, "data", "", "with --meta: where the volume's objects go, a directory or file:///PATH")
	fl.Func("block-size", "bytes per data block: a power of two from 4K to 64M (default 4M)", func(s string) error {
		n, err := bench.ParseSize(s)
		o.blockSize = int(n)
		return err
	})
	pos, err := parseArgs(fl, args, 1)
	if err != nil {
		return err
	}
	if metaURL != "" {
		return runFormatEngine(ctx, e, metaURL, data, pos[0], o.blockSize)
	}
	if data != "" {
		fmt.Fprintf(e.stderr, "ferry format: --data needs --meta (a volume directory keeps its objects inside)\n")
		return errUsage
	}
	o.dir = pos[0]
	return runFormat(ctx, e, o)
}

func runFormat(ctx context.Context, e *env, o formatOptions) error {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(filepath.Join(dir, volume.MarkerFile)); err == nil {
		if m, err := volume.ReadMarker(dir); err == nil {
			return fmt.Errorf("%s is already a Ferry volume (uuid %s)", dir, m.UUID)
		}
		return fmt.Errorf("%s already holds a %s file; refusing to format it", dir, volume.MarkerFile)
	}
	v, err := volume.Open(ctx, dir, volume.Options{
		Create:    true,
		BlockSize: o.blockSize,
		Logger:    newLogger(e, slog.LevelWarn),
	})
	if err != nil {
		return err
	}
	if err := v.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "formatted %s: uuid %s, block size %s\n",
		dir, v.Marker.UUID, bench.FormatSize(int64(v.Marker.BlockSize)))
	return nil
}

// newLogger returns the logger of a command that is not a mount: text on
// stderr.
func newLogger(e *env, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
}
