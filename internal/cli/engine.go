package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferryfs/ferry/internal/bench"
	"github.com/ferryfs/ferry/internal/volume"
)

// volSource is what names a command's volume: a volume directory, or with
// --meta the URL of the metadata engine the volume lives in.
type volSource struct {
	dir  string
	meta string
}

func (s volSource) String() string {
	if s.meta != "" {
		return volume.Redact(s.meta)
	}
	return s.dir
}

const metaUsage = "the volume lives in this metadata engine (postgres://USER@HOST/DB or etcd://HOST:PORT,.../PREFIX) instead of a directory VOL"

// metaFlag adds --meta to a command that takes a volume.
func metaFlag(fl *flag.FlagSet, s *volSource) { fl.StringVar(&s.meta, "meta", "", metaUsage) }

// parseVol parses the arguments of a command that takes a volume (VOL, or
// --meta URL) and others more positional arguments, which it returns.
func parseVol(fl *flag.FlagSet, args []string, s *volSource, others int) ([]string, error) {
	want := others + 1
	if hasMeta(args) {
		want = others
	}
	pos, err := parseArgs(fl, args, want)
	if err != nil {
		return nil, err
	}
	if s.meta == "" {
		s.dir, pos = pos[0], pos[1:]
	}
	return pos, nil
}

// hasMeta reports whether args give --meta before any "--".
func hasMeta(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "meta" {
			return true
		}
	}
	return false
}

// openVolume opens the volume s names.
func openVolume(ctx context.Context, s volSource, opts volume.Options) (*volume.Volume, error) {
	if s.meta != "" {
		return volume.OpenEngine(ctx, s.meta, opts)
	}
	return volume.Open(ctx, s.dir, opts)
}

// runFormatEngine makes volume name in the engine at metaURL.
func runFormatEngine(ctx context.Context, e *env, metaURL, data, name string, blockSize int) error {
	sb, err := volume.FormatEngine(ctx, metaURL, volume.FormatOptions{
		Name: name, Data: data, BlockSize: blockSize, Logger: newLogger(e, slog.LevelWarn),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "formatted volume %s in %s: uuid %s, block size %s, data %s\n",
		sb.Name, volume.Redact(metaURL), sb.UUID, bench.FormatSize(int64(sb.BlockSize)), volume.Redact(sb.Data))
	return nil
}

// runStatusEngine describes a volume in an engine; one in use by another
// process is only named, with its holder.
func runStatusEngine(ctx context.Context, e *env, metaURL string) error {
	v, err := volume.OpenEngine(ctx, metaURL, volume.Options{Logger: newLogger(e, slog.LevelWarn)})
	var inUse *volume.InUseError
	if errors.As(err, &inUse) {
		fmt.Fprintf(e.stdout, "volume  %s\nstate   in use by %s; counts need the volume to be free\n",
			volume.Redact(metaURL), cmp(inUse.Holder, "another ferry process"))
		return nil
	}
	if err != nil {
		return err
	}
	defer v.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("volume", "%s", v.Source)
	row("name", "%s", v.Super.Name)
	row("uuid", "%s", v.Super.UUID)
	row("format", "version %d", v.Super.Version)
	row("block size", "%s", bench.FormatSize(int64(v.Super.BlockSize)))
	row("created", "%s", time.Unix(0, v.Super.Created).Local().Format(time.RFC3339))
	row("data", "%s", volume.Redact(v.Super.Data))
	row("state", "not in use")
	if err := statusCounts(ctx, v, row); err != nil {
		tw.Flush()
		return err
	}
	return tw.Flush()
}

func cmp(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
