package cli

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ferryfs/ferry/internal/fsck"
	"github.com/ferryfs/ferry/internal/volume"
)

type fsckOptions struct {
	src    volSource
	repair bool
	verify bool
}

func cmdFsck(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "fsck", "VOL|--meta URL [--repair] [--verify]")
	var o fsckOptions
	metaFlag(fl, &o.src)
	fl.BoolVar(&o.repair, "repair", false, "repair the metadata and delete unreferenced objects")
	fl.BoolVar(&o.verify, "verify", false, "read every referenced object and verify its checksum")
	if _, err := parseVol(fl, args, &o.src, 0); err != nil {
		return err
	}
	return runFsck(ctx, e, o)
}

// runFsck checks a volume that is not in use; problems it leaves behind
// make it fail.
func runFsck(ctx context.Context, e *env, o fsckOptions) error {
	v, err := openVolume(ctx, o.src, volume.Options{Logger: newLogger(e, slog.LevelWarn)})
	if err != nil {
		return err
	}
	rep, err := fsck.Check(ctx, v.Meta, v.Objects, fsck.Options{Repair: o.repair, Verify: o.verify}, e.stdout)
	if cerr := v.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if !rep.Clean() && !o.repair {
		return errors.New("the volume has problems; run ferry fsck --repair")
	}
	return nil
}

func cmdGC(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "gc", "VOL|--meta URL")
	var src volSource
	metaFlag(fl, &src)
	if _, err := parseVol(fl, args, &src, 0); err != nil {
		return err
	}
	return runGC(ctx, e, src)
}

// runGC deletes the objects of a volume that no file references.
func runGC(ctx context.Context, e *env, src volSource) error {
	v, err := openVolume(ctx, src, volume.Options{Logger: newLogger(e, slog.LevelWarn)})
	if err != nil {
		return err
	}
	_, err = fsck.GC(ctx, v.Meta, v.Objects, e.stdout)
	if cerr := v.Close(); err == nil {
		err = cerr
	}
	return err
}
