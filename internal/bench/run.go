package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"time"
)

// target is one directory being measured.
type target struct {
	label string
	dir   string
}

// Run measures cfg.Dir (and cfg.NativeDir, if set) and returns the medians.
// It reports its advance on progress: a bar redrawn in place when progress
// is a terminal, one line per phase otherwise; nil reports nothing. Every
// run removes the files it made, also when it fails. Errors name the
// operation and path; file-system errors wrap their syscall.Errno.
func Run(ctx context.Context, cfg Config, progress io.Writer) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	cfg = cfg.withDefaults()
	log := cfg.Logger

	targets := []target{{cfg.Label, cfg.Dir}}
	if cfg.NativeDir != "" {
		targets = append(targets, target{cfg.NativeLabel, cfg.NativeDir})
	}
	for _, t := range targets {
		if err := checkDir(t.dir); err != nil {
			return Result{}, err
		}
	}
	if cfg.PID > 0 {
		if _, err := readPeakRSS(cfg.PID); err != nil {
			return Result{}, err
		}
	}

	var dropper *cacheDropper
	if cfg.data() && !cfg.KeepCaches {
		dropper = &cacheDropper{path: dropCachesPath}
	}
	p := newProgress(progress, IsTerminal(progress), countPhases(cfg, len(targets)), time.Now)
	defer p.finish()

	var buf []byte
	if cfg.data() {
		buf = newDataBuffer()
	}
	samples := make([][numMetrics][]float64, len(targets))
	// All metadata runs come before all data runs, so that no metadata
	// figure is taken just after the page cache (with the dentry and inode
	// caches) was dropped. Within a workload, each run measures every
	// directory, and which one goes first alternates so that neither always
	// runs on a machine warmed (or tired) by the other.
	order := func(r int) []int {
		o := []int{0, 1}[:len(targets)]
		if r%2 == 1 {
			slices.Reverse(o)
		}
		return o
	}
	tag := func(r, i int) string { return fmt.Sprintf("run %d/%d %s", r+1, cfg.Runs, targets[i].label) }
	for r := range cfg.Runs {
		if !cfg.meta() {
			break
		}
		for _, i := range order(r) {
			fig, err := runMeta(ctx, targets[i].dir, cfg.Files, p, tag(r, i))
			if err != nil {
				return Result{}, err
			}
			log.Debug("bench meta run", "run", r+1, "dir", targets[i].dir,
				"create", fig.create, "stat1", fig.stat1, "stat2", fig.stat2, "unlink", fig.unlink)
			s := &samples[i]
			s[mCreate] = append(s[mCreate], fig.create)
			s[mStat1] = append(s[mStat1], fig.stat1)
			s[mStat2] = append(s[mStat2], fig.stat2)
			s[mUnlink] = append(s[mUnlink], fig.unlink)
		}
	}
	for r := range cfg.Runs {
		if !cfg.data() {
			break
		}
		for _, i := range order(r) {
			fig, err := runData(ctx, targets[i].dir, cfg.Size, buf, dropper, p, tag(r, i))
			if err != nil {
				return Result{}, err
			}
			log.Debug("bench data run", "run", r+1, "dir", targets[i].dir,
				"write", fig.write, "read", fig.read)
			s := &samples[i]
			s[mWrite] = append(s[mWrite], fig.write)
			s[mRead] = append(s[mRead], fig.read)
		}
	}

	res := Result{
		Label:     cfg.Label,
		Dir:       cfg.Dir,
		NativeDir: cfg.NativeDir,
		Runs:      cfg.Runs,
		PID:       cfg.PID,
	}
	if cfg.NativeDir != "" {
		res.NativeLabel = cfg.NativeLabel
	}
	if cfg.meta() {
		res.Files = cfg.Files
	}
	if cfg.data() {
		res.SizeBytes = cfg.Size
		switch {
		case cfg.KeepCaches:
			res.CacheNote = "page cache kept on request"
		case dropper.failed != nil:
			res.CacheNote = "cannot drop the page cache: " + dropper.failed.Error()
		default:
			res.ReadsCold = true
		}
	}
	for m := range numMetrics {
		if len(samples[0][m]) == 0 {
			continue
		}
		info := metricInfo[m]
		mt := Metric{Name: info.name, Title: info.title, Unit: info.unit, Samples: samples[0][m]}
		if m == mRead {
			mt.Title = "read warm"
			if res.ReadsCold {
				mt.Title = "read cold"
			}
		}
		mt.Value = median(mt.Samples)
		if len(targets) > 1 {
			mt.NativeSamples = samples[1][m]
			mt.Native = median(mt.NativeSamples)
			if mt.Native > 0 {
				mt.Ratio = mt.Value / mt.Native
			}
		}
		res.Metrics = append(res.Metrics, mt)
	}
	if cfg.PID > 0 {
		rss, err := readPeakRSS(cfg.PID)
		if err != nil {
			res.RSSNote = err.Error()
			p.note(err.Error())
		}
		res.PeakRSSBytes = rss
	}
	return res, nil
}

// countPhases is the number of progress phases Run goes through.
func countPhases(cfg Config, targets int) int {
	per := 0
	if cfg.meta() {
		per += 4 // create, stat, stat, unlink
	}
	if cfg.data() {
		per += 2 // write, read
		if !cfg.KeepCaches {
			per++ // drop page cache
		}
	}
	return per * targets * cfg.Runs
}

// checkDir fails unless dir is a directory the benchmark can write in.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return opError("stat", dir, err)
	}
	if !fi.IsDir() {
		return &Error{Op: "open", Path: dir, Err: syscall.ENOTDIR}
	}
	probe, err := os.MkdirTemp(dir, ".ferry-bench-probe-")
	if err != nil {
		return opError("mkdir in", dir, err)
	}
	if err := os.Remove(probe); err != nil {
		return opError("remove", probe, err)
	}
	return nil
}

// readPeakRSS returns VmHWM of process pid, in bytes.
func readPeakRSS(pid int) (int64, error) {
	path := statusPath(pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, opError("read", path, err)
	}
	n, err := parseVmHWM(b)
	if err != nil {
		return 0, opError("read", path, err)
	}
	return n, nil
}
