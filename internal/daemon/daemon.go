// Package daemon wires `tempfail serve` together: store, engine, checks,
// front-end listeners, metrics endpoint, reload and drain. It holds no
// policy; the command line and the integration tests both drive it.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tempfail/tempfail/internal/checks"
	"github.com/tempfail/tempfail/internal/config"
	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/postfixpolicy"
	"github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/reply"
	"github.com/tempfail/tempfail/internal/store"
	"github.com/tempfail/tempfail/internal/store/boltstore"
)

// DBFile is the embedded store's file name inside data_dir.
const DBFile = "tempfail.db"

// wrapStore lets tests put a failing store under a real daemon.
var wrapStore = func(s store.Store) store.Store { return s }

// Daemon is a running policy server.
type Daemon struct {
	log   *slog.Logger
	level *slog.LevelVar

	mu  sync.Mutex // guards cfg during reload
	cfg *config.Config

	reg      *prometheus.Registry
	store    store.Store
	limits   *ratelimit.Local // rate-limit buckets, written behind to store
	engine   *engine.Engine
	emetrics *engine.Metrics
	facts    *facts.Source // the resolver of every DNS check; kept across reloads (factsFor adds [dnsbl])
	cmetrics *checks.Metrics
	policy   *postfixpolicy.Server
	metrics  *http.Server

	listeners   []net.Listener
	metricsAddr string
	serving     sync.WaitGroup
}

// limitsFlushEvery is how often changed rate-limit buckets reach the store
// at least: a crash loses at most this much of their charges.
const limitsFlushEvery = time.Second

// New opens the store and builds the engine; it does not listen yet.
func New(cfg *config.Config, log *slog.Logger, level *slog.LevelVar) (*Daemon, error) {
	d := &Daemon{cfg: cfg, log: log, level: level, reg: prometheus.NewRegistry()}
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	path := filepath.Join(cfg.DataDir, DBFile)
	sm := newStoreMetrics(d.reg)
	st, err := boltstore.Open(boltstore.Options{
		Path:          path,
		FlushInterval: cfg.Store.FlushInterval.D(),
		Logger:        log,
		OnFlush:       sm.onFlush,
		OnSweep:       sm.onSweep,
		OnMerge:       sm.onMerge,
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	d.store = instrument(wrapStore(st), sm)
	if d.facts, err = newFacts(cfg, d.reg); err != nil { // dns.go
		st.Close()
		return nil, err
	}
	d.emetrics = engine.NewMetrics(d.reg)
	d.cmetrics = checks.NewMetrics(d.reg)
	// Rate-limit buckets live in memory and are written behind to the
	// store every second (or flush_interval if longer): this process owns
	// the embedded store, and exact GCRA would otherwise write every limit
	// on every request (docs/performance.md, "Rate limits").
	d.limits = ratelimit.NewLocal(d.store, ratelimit.LocalOptions{
		FlushEvery: max(cfg.Store.FlushInterval.D(), limitsFlushEvery), Logger: log})

	chain, err := checks.Build(cfg, d.store, d.limits, d.cmetrics)
	if err != nil {
		d.limits.Close()
		st.Close()
		return nil, err
	}
	src, err := d.factsFor(cfg) // dns.go
	if err != nil {
		d.limits.Close()
		st.Close()
		return nil, err
	}
	d.engine = engine.New(d.engineOptions(cfg, chain, src))
	d.policy = postfixpolicy.NewServer(postfixpolicy.Options{MaxConns: cfg.MaxConnections}, d.engine, log, d.reg)
	log.Info("store opened", "path", path, "flush_interval", cfg.Store.FlushInterval.String())
	return d, nil
}

func (d *Daemon) engineOptions(cfg *config.Config, chain []engine.Check, src *facts.Source) engine.Options {
	onErr := policy.Verdict{Action: policy.Dunno}
	if cfg.OnError == "defer" {
		// 451 4.3.0: "local error in processing", other mail system status.
		onErr = policy.Verdict{Action: policy.Reply, Code: reply.CodeLocalError, Enhanced: "4.3.0", Text: "Temporary policy service problem, try again later"}
	}
	return engine.Options{
		Checks:  chain,
		Timeout: cfg.RequestTimeout.D(),
		OnError: onErr,
		Logger:  d.log,
		Metrics: d.emetrics,
		Facts:   src,
	}
}

// Start opens every listener and serves in the background. It fails
// without serving anything if any address cannot be opened.
func (d *Daemon) Start() error {
	for _, a := range d.cfg.Listen {
		l, err := postfixpolicy.Listen(a)
		if err != nil {
			for _, o := range d.listeners {
				o.Close()
			}
			if errors.Is(err, syscall.EADDRINUSE) {
				// The usual cause when replacing postgrey: it still holds 10023.
				return fmt.Errorf("%w (is postgrey or another tempfail still running there?)", err)
			}
			return err
		}
		d.listeners = append(d.listeners, l)
	}
	if a := d.cfg.MetricsListen; a != "" {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, o := range d.listeners {
				o.Close()
			}
			return fmt.Errorf("metrics_listen %s: %w", a, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{}))
		d.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := d.metrics.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.log.Error("metrics server stopped", "error", err)
			}
		}()
		d.metricsAddr = l.Addr().String()
		d.log.Info("metrics listening", "addr", d.metricsAddr)
	}
	for _, l := range d.listeners {
		d.serving.Add(1)
		go func(l net.Listener) {
			defer d.serving.Done()
			if err := d.policy.Serve(l); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, postfixpolicy.ErrServerClosed) {
				d.log.Error("policy listener stopped", "addr", l.Addr().String(), "error", err)
			}
		}(l)
		d.log.Info("policy server listening", "addr", addrString(l))
	}
	return nil
}

func addrString(l net.Listener) string {
	if l.Addr().Network() == "unix" {
		return "unix:" + l.Addr().String()
	}
	return l.Addr().String()
}

// Addrs returns the listening addresses (useful with port 0 in tests).
func (d *Daemon) Addrs() []string {
	var out []string
	for _, l := range d.listeners {
		out = append(out, addrString(l))
	}
	return out
}

// MetricsAddr is the metrics listener's address, "" when off.
func (d *Daemon) MetricsAddr() string { return d.metricsAddr }

// Engine exposes the engine, for tests and tools.
func (d *Daemon) Engine() *engine.Engine { return d.engine }

// Reload applies a new config: checks, lists, timeouts, log level. Listen
// addresses, data_dir and metrics_listen need a restart; a change is logged.
// On error nothing changes.
func (d *Daemon) Reload(cfg *config.Config) error {
	chain, err := checks.Build(cfg, d.store, d.limits, d.cmetrics)
	if err != nil {
		return err
	}
	src, err := d.factsFor(cfg) // dns.go: [dnsbl] sites may have changed
	if err != nil {
		return err
	}
	d.mu.Lock()
	old := d.cfg
	d.cfg = cfg
	d.mu.Unlock()
	if fmt.Sprint(old.Listen) != fmt.Sprint(cfg.Listen) || old.DataDir != cfg.DataDir ||
		old.MetricsListen != cfg.MetricsListen || old.Store != cfg.Store || old.MaxConnections != cfg.MaxConnections {
		d.log.Warn("listen, data_dir, metrics_listen, max_connections and [store] changes take effect after a restart")
	}
	if fmt.Sprint(old.DNS) != fmt.Sprint(cfg.DNS) {
		d.log.Warn("[dns] changes take effect after a restart (the resolver keeps its cache)")
	}
	d.level.Set(ParseLevel(cfg.Log.Level))
	d.engine.Reload(d.engineOptions(cfg, chain, src))
	return nil
}

// Shutdown stops accepting, lets in-flight requests finish (until ctx
// expires), then flushes and closes the store.
func (d *Daemon) Shutdown(ctx context.Context) error {
	err := d.policy.Shutdown(ctx)
	d.serving.Wait()
	if d.metrics != nil {
		d.metrics.Shutdown(ctx)
	}
	if cerr := d.limits.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if cerr := d.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// CheckConfig builds the check chain from cfg without opening anything, so
// `serve --check-config` reports list-file errors as a start would.
func CheckConfig(cfg *config.Config) ([]engine.Check, error) {
	return checks.Build(cfg, nil, nil, checks.NewMetrics(nil))
}
