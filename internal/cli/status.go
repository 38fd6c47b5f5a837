package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/ferryfs/ferry/internal/bench"
	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/volume"
)

func cmdStatus(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "status", "VOL|--meta URL")
	var src volSource
	metaFlag(fl, &src)
	if _, err := parseVol(fl, args, &src, 0); err != nil {
		return err
	}
	if src.meta != "" {
		return runStatusEngine(ctx, e, src.meta)
	}
	return runStatus(ctx, e, src.dir)
}

// runStatus describes a volume. The metadata store allows one process at
// a time, so for a volume in use it prints what FERRY says and who holds
// the volume.
func runStatus(ctx context.Context, e *env, dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	m, err := volume.ReadMarker(dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("volume", "%s", dir)
	row("uuid", "%s", m.UUID)
	row("format", "version %d", m.Version)
	row("block size", "%s", bench.FormatSize(int64(m.BlockSize)))
	row("created", "%s", m.Created.Local().Format(time.RFC3339))

	v, err := volume.Open(ctx, dir, volume.Options{Logger: newLogger(e, slog.LevelWarn)})
	var inUse *volume.InUseError
	if errors.As(err, &inUse) {
		if inUse.PID > 0 {
			row("state", "in use by pid %d (mounted?); counts need the volume to be free", inUse.PID)
		} else {
			row("state", "in use by another ferry process; counts need the volume to be free")
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer v.Close()
	row("state", "not in use")
	if err := statusCounts(ctx, v, row); err != nil {
		tw.Flush()
		return err
	}
	return tw.Flush()
}

func statusCounts(ctx context.Context, v *volume.Volume, row func(k, format string, args ...any)) error {
	st, err := v.Meta.StatFS(ctx)
	if err != nil {
		return fmt.Errorf("read usage: %w", err)
	}
	row("inodes", "%d", st.Files)
	row("file bytes", "%d (%s)", st.Bytes, bench.FormatSize(int64(st.Bytes)))
	sessions, err := v.Meta.Sessions(ctx)
	if err != nil {
		return fmt.Errorf("read sessions: %w", err)
	}
	row("sessions", "%d recorded (clients of the last ferry serve, which may resume)", len(sessions))
	var n, bytes int64
	err = v.Objects.List(ctx, "", func(o blob.Object) error {
		n++
		bytes += o.Size
		return nil
	})
	if err != nil {
		return fmt.Errorf("list objects: %w", err)
	}
	row("objects", "%d (%s)", n, bench.FormatSize(bytes))
	if total, free, err := v.Disk(); err == nil {
		row("disk", "%s free of %s", bench.FormatSize(int64(free)), bench.FormatSize(int64(total)))
	}
	return nil
}
