package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

// Registry is the set of metrics of one process.
type Registry struct {
	reg *prometheus.Registry
}

// New returns a registry holding the Go runtime's and the process's own
// metrics (memory, CPU, open files).
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Register adds collectors (such as an *Ops); it panics on a name
// registered twice, a programming error.
func (r *Registry) Register(cs ...prometheus.Collector) { r.reg.MustRegister(cs...) }

// Counter registers a counter read from f at each scrape. labels are
// name, value pairs.
func (r *Registry) Counter(name, help string, f func() uint64, labels ...string) {
	r.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: constLabels(labels)},
		func() float64 { return float64(f()) }))
}

// Gauge registers a gauge read from f at each scrape.
func (r *Registry) Gauge(name, help string, f func() float64, labels ...string) {
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: constLabels(labels)}, f))
}

func constLabels(kv []string) prometheus.Labels {
	if len(kv) == 0 {
		return nil
	}
	l := make(prometheus.Labels, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return l
}

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Text returns the registry in the Prometheus text format.
func (r *Registry) Text() ([]byte, error) {
	mfs, err := r.reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather metrics: %w", err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("encode metrics: %w", err)
		}
	}
	return b.Bytes(), nil
}

// Listener serves a registry over HTTP (/metrics) until Close.
type Listener struct {
	ln   net.Listener
	srv  *http.Server
	done chan error
}

// Listen serves r over HTTP on ln: /metrics, and / pointing to it.
func Listen(ln net.Listener, r *Registry, log *slog.Logger) *Listener {
	mux := http.NewServeMux()
	mux.Handle("/metrics", r.Handler())
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ferry: metrics at /metrics")
	})
	l := &Listener{ln: ln, done: make(chan error, 1), srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	go func() { l.done <- l.srv.Serve(ln) }()
	return l
}

// ListenTCP serves r on the TCP address addr (host:port; port 0 picks
// one, see Addr).
func ListenTCP(addr string, r *Registry, log *slog.Logger) (*Listener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("metrics address %q: want HOST:PORT", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return Listen(ln, r, log), nil
}

// Addr is where the listener listens.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops serving and waits for the server to stop.
func (l *Listener) Close() error {
	err := l.srv.Close()
	if serr := <-l.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
