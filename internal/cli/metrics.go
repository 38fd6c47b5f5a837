package cli

import (
	"errors"
	"flag"
	"log/slog"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/metered"
	"github.com/ferryfs/ferry/internal/client"
	"github.com/ferryfs/ferry/internal/metrics"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/service"
	"github.com/ferryfs/ferry/internal/volume/mount"
)

// metricsFlag adds --metrics to serve and mount.
func metricsFlag(fl *flag.FlagSet, addr *string) {
	fl.StringVar(addr, "metrics", "", "serve Prometheus metrics over HTTP on HOST:PORT (e.g. 127.0.0.1:9100)")
}

// procMetrics are the metrics of a serve or mount process: its registry,
// the HTTP listener of --metrics and a mount's control socket.
type procMetrics struct {
	reg *metrics.Registry
	log *slog.Logger
	lns []*metrics.Listener
}

// listenMetrics returns a process's metrics, serving them on addr
// (--metrics) if it is set. It comes first, before a volume is opened or
// formatted: an address in use must cost nothing.
func listenMetrics(addr string, log *slog.Logger) (*procMetrics, error) {
	p := &procMetrics{reg: metrics.New(), log: log}
	if addr == "" {
		return p, nil
	}
	ln, err := metrics.ListenTCP(addr, p.reg, log)
	if err != nil {
		return nil, err
	}
	p.lns = append(p.lns, ln)
	return p, nil
}

// announce logs where the metrics are served (a background mount logs
// to its file only once it is ready).
func (p *procMetrics) announce() {
	for _, ln := range p.lns {
		if a := ln.Addr(); a.Network() == "unix" {
			p.log.Info("metrics: control socket", "path", a.String())
		} else {
			p.log.Info("metrics: serving", "addr", "http://"+a.String()+"/metrics")
		}
	}
}

func (p *procMetrics) close() error {
	var errs []error
	for _, ln := range p.lns {
		errs = append(errs, ln.Close())
	}
	p.lns = nil
	return errors.Join(errs...)
}

// service decorates what a service serves: its calls and its objects.
func (p *procMetrics) service(svc *service.Service, objects blob.Store, accept rpc.Acceptor) (rpc.Acceptor, blob.Store) {
	ops := metrics.NewWireOps()
	counted := metered.New(objects)
	p.reg.Register(ops)
	p.reg.Objects(counted)
	p.reg.Leases(svc)
	return metrics.Acceptor(accept, ops, p.reg), counted
}

// mountOptions adds the decorators of a mount's FUSE requests and object
// store to opts.
func (p *procMetrics) mountOptions(opts mount.Options) mount.Options {
	ops := metrics.NewFUSEOps()
	p.reg.Register(ops)
	opts.WrapFS = metrics.FUSE(ops)
	opts.WrapObjects = func(s blob.Store) blob.Store {
		counted := metered.New(s)
		p.reg.Objects(counted)
		return counted
	}
	return opts
}

// live finishes a mount's metrics once the mount is live, then tells
// ready (see runMount) and logs where the metrics are served.
func (p *procMetrics) live(m *mount.Mount, c *client.Client, ready func(*slog.Logger)) {
	p.mounted(m, c)
	if ready != nil {
		ready(p.log)
	}
	p.announce()
}

// mounted registers what only exists once the mount does and serves the
// metrics on the mount's control socket. c is nil for an embedded mount.
// A control socket that cannot be made costs the mount its `ferry stats`
// view, not its life: a warning says why.
func (p *procMetrics) mounted(m *mount.Mount, c *client.Client) {
	p.reg.BlockCache(m.Data)
	p.reg.Kernel(m.Server)
	if c != nil {
		p.reg.Client(c)
	}
	ln, err := metrics.ListenMount(m.Dir, p.reg, p.log)
	if err == nil {
		p.lns = append(p.lns, ln)
	} else {
		p.log.Warn("metrics: no control socket; ferry stats cannot find this mount", "mountpoint", m.Dir, "err", err)
	}
}
