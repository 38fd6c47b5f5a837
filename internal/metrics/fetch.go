package metrics

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metrics of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Source is where `ferry stats` reads a process's metrics from.
type Source struct {
	// What is shown in the view's title: "mount /mnt/x (ferry:/vol)",
	// "service ferry://host:7070", "http://host:9100/metrics".
	What string

	fetch func(ctx context.Context) ([]byte, error)
	close func() error
}

// Open returns the source a `ferry stats` argument names: a mount point
// (its control socket), http://HOST:PORT (a --metrics listener), or a
// service address (ferry://, tcp://, unix://, vsock://), asked over the
// wire protocol without opening a session.
func Open(ctx context.Context, target string) (*Source, error) {
	switch {
	case strings.HasPrefix(target, "http://"):
		return httpSource(target), nil
	case strings.Contains(target, "://"):
		return wireSource(ctx, target)
	}
	return mountSource(target)
}

// Fetch scrapes the source once.
func (s *Source) Fetch(ctx context.Context) (Families, error) {
	text, err := s.fetch(ctx)
	if err != nil {
		return nil, err
	}
	return Parse(text)
}

// Close releases the source's connection, if any.
func (s *Source) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

// Parse reads metrics in the Prometheus text format.
func Parse(text []byte) (Families, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(text)))
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return mfs, nil
}

func httpSource(target string) *Source {
	u := strings.TrimSuffix(target, "/")
	if !strings.HasSuffix(u, "/metrics") {
		u += "/metrics"
	}
	c := &http.Client{Timeout: 10 * time.Second}
	return &Source{What: u, fetch: func(ctx context.Context) ([]byte, error) { return httpGet(ctx, c, u) }}
}

func httpGet(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}

// mountSource finds a mount's control socket through the mount table.
func mountSource(dir string) (*Source, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	e, err := findMount(abs)
	if err != nil {
		return nil, err
	}
	if !e.IsFerry() {
		return nil, fmt.Errorf("%s is a %s mount, not a Ferry mount", abs, e.FsType)
	}
	sock, err := findControl(e.Device)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	return unixSource(sock, fmt.Sprintf("mount %s (%s)", abs, strings.TrimPrefix(e.Source, "ferry:"))), nil
}

// unixSource reads a control socket.
func unixSource(sock, what string) *Source {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	return &Source{
		What:  what,
		fetch: func(ctx context.Context) ([]byte, error) { return httpGet(ctx, c, "http://ferry/metrics") },
		close: func() error { c.CloseIdleConnections(); return nil },
	}
}

// wireSource connects to a service as a stats client: no session, no
// leases; the service answers wire.OpMetrics.
func wireSource(ctx context.Context, target string) (*Source, error) {
	addrs, err := rpc.ParseAddrs(target)
	if err != nil {
		return nil, err
	}
	c, err := rpc.Connect(ctx, rpc.ClientOptions{Addrs: addrs, Client: wire.StatsClient, Patience: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	return &Source{
		What: "service " + target,
		fetch: func(ctx context.Context) ([]byte, error) {
			var d wire.Data
			if err := c.Call(ctx, wire.OpMetrics, &wire.Empty{}, &d); err != nil {
				return nil, fmt.Errorf("metrics of %s: %w", target, err)
			}
			return d.B, nil
		},
		close: c.Close,
	}, nil
}
