package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ferryfs/ferry/internal/procs"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/service"
	"github.com/ferryfs/ferry/internal/volume"
)

const serveSynopsis = "VOL|--meta URL --listen ADDR[?tls=1&token-file=PATH&insecure=1] [--listen ADDR ...] [--tls-cert F --tls-key F [--tls-client-ca F]] [--lease D] [--recall-timeout D] [--async] [--metrics HOST:PORT] [-v] [--log-level L] " + exportSynopsis

// listenFlag collects repeated --listen addresses.
type listenFlag []listenSpec

func (l *listenFlag) String() string {
	var s []string
	for _, a := range *l {
		s = append(s, a.String())
	}
	return strings.Join(s, ",")
}

func (l *listenFlag) Set(v string) error {
	a, err := parseListen(v)
	if err != nil {
		return err
	}
	*l = append(*l, a)
	return nil
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "serve", serveSynopsis)
	var listen listenFlag
	fl.Var(&listen, "listen", "address to serve on: tcp://HOST:PORT, unix:///PATH or vsock://CID:PORT, with ?tls=1, ?token-file=PATH, ?insecure=1 (repeatable)")
	sec := serveSecurityFlags(fl)
	lease := fl.Duration("lease", service.DefaultLeasePeriod, "lease period: a client not heard from for this long loses its session")
	recall := fl.Duration("recall-timeout", service.DefaultRecallTimeout, "how long a change waits for a client to acknowledge a recall")
	async := fl.Bool("async", false, "acknowledge changes before they are durable (a crash of the service may lose changes acknowledged since the last fsync)")
	level := logLevelFlag(fl, slog.LevelInfo)
	verbose := verboseFlag(fl, level)
	var metricsAddr string
	metricsFlag(fl, &metricsAddr)
	export := exportFlags(fl)
	var src volSource
	metaFlag(fl, &src)
	_, err := parseVol(fl, args, &src, 0)
	if err != nil {
		return err
	}
	verbose()
	if len(listen) == 0 {
		fmt.Fprintf(e.stderr, "ferry serve: --listen is required\n")
		fl.Usage()
		return errUsage
	}
	if *lease < 100*time.Millisecond || *recall < 10*time.Millisecond {
		fmt.Fprintf(e.stderr, "ferry serve: --lease must be at least 100ms and --recall-timeout at least 10ms\n")
		fl.Usage()
		return errUsage
	}
	if err := sec.resolve(listen); err != nil {
		return err
	}
	ex, err := export()
	if err != nil {
		fmt.Fprintf(e.stderr, "ferry serve: %v\n", err)
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: *level}))
	pm, err := listenMetrics(metricsAddr, log)
	if err != nil {
		return err
	}
	defer pm.close()
	return runServe(ctx, log, src, listen, pm, service.Options{LeasePeriod: *lease, RecallTimeout: *recall, Async: *async, Logger: log, Export: ex})
}

// runServe serves vol on every address until ctx ends.
func runServe(ctx context.Context, log *slog.Logger, vol volSource, listen []listenSpec, pm *procMetrics, opts service.Options) error {
	if os.Getenv("GOMAXPROCS") == "" {
		// This process exists to serve; one processor for metadata
		// calls, all of them while file data moves (package procs).
		opts.Procs = procs.Start()
		defer opts.Procs.Stop()
	}
	svc := service.New(opts)
	log.Info("opening volume", "volume", vol)
	var addrs []string
	for _, a := range listen {
		addrs = append(addrs, a.Addr.String())
	}
	// A volume in an engine may have other services: this one stands by
	// while another is active (package standby).
	v, err := openVolume(ctx, vol, volume.Options{Create: true, Logger: log, OnCommit: svc.OnCommit, KeepOrphans: true,
		Standby: true, Addrs: addrs})
	if err != nil {
		return err
	}
	var lost <-chan struct{}
	if v.Lease != nil {
		lost = v.Lease.Lost()
	}
	if volume.Shared(v.Super.Data) {
		svc.AdvertiseData(v.Super.Data)
	}
	accept, objects := pm.service(svc, v.Objects, svc.Accept)
	svc.Configure(objects, v.Super.BlockSize, v.Marker.UUID)
	if err := svc.Attach(ctx, v.Meta); err != nil {
		return errors.Join(err, v.Close())
	}
	if path := os.Getenv("FERRY_CPUPROFILE"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			log.Warn("cpu profile not started", "err", err)
		} else {
			defer stop()
		}
	}
	pm.announce()
	srv := rpc.NewServer(rpc.ServerOptions{Accept: accept, Logger: log})
	errc := make(chan error, len(listen))
	var lns int
	for _, a := range listen {
		ln, err := a.listen(log)
		if err != nil {
			srv.Close()
			svc.Close()
			return errors.Join(err, v.Close())
		}
		lns++
		log.Info("serving", "volume", v.Source, "listen", a.Scheme+"://"+ln.Addr().String(), "auth", a.policy.String())
		go func() { errc <- srv.Serve(ln) }()
	}
	select {
	case <-ctx.Done():
		log.Info("signal received: stopping", "volume", v.Source)
	case err = <-errc:
		log.Error("listener failed", "err", err)
	case <-lost:
		err = fmt.Errorf("volume %s: no longer its active service: %w", v.Source, v.Lease.Err())
		log.Error("stopping: another service holds the volume now, or it could not be renewed", "err", v.Lease.Err())
	}
	srv.Close()
	svc.Close()
	if cerr := v.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return err
}
