// Package app wires tessera's components together: it is the only package
// that imports concrete backends. A command builds a config, calls New and
// then Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-geo/tessera/internal/api"
	"github.com/tessera-geo/tessera/internal/config"
	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// App is a running tessera server.
type App struct {
	cfg     config.Serve
	log     *slog.Logger
	store   store.Store
	handler http.Handler
	closers []func() error
	// components run beside the HTTP server until the context ends (the
	// ingest workers, for example); an error from one stops the server.
	components []func(ctx context.Context) error
	// metrics is the Prometheus registry served at /metrics.
	metrics *prometheus.Registry
}

// New builds the server: opens the store and builds the HTTP handlers.
func New(ctx context.Context, cfg config.Serve, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, metrics: prometheus.NewRegistry()}
	queue, err := a.startQueue(ctx)
	if err != nil {
		return nil, err
	}
	tcfg, reader, err := a.rasterReader()
	if err != nil {
		a.Close()
		return nil, err
	}
	st, err := OpenStore(ctx, cfg.Common)
	if err != nil {
		a.Close()
		return nil, err
	}
	// Closers run last first: the store closes after the queue.
	a.store, a.closers = st, append([]func() error{st.Close}, a.closers...)
	a.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	acfg := api.Defaults()
	acfg.ID, acfg.Title, acfg.Description = cfg.ID, cfg.Title, cfg.Description
	acfg.BaseURL, acfg.RootPath = cfg.BaseURL, cfg.RootPath
	acfg.Limits = search.Limits{DefaultLimit: cfg.ItemsDefaultLimit, MaxLimit: cfg.ItemsMaxLimit}
	acfg.FilterPermissive = cfg.FilterPermissive
	acfg.Transactions = cfg.Transactions
	acfg.AssetProxy = a.assetProxy()
	srv, err := api.New(acfg, st, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	srv.Register(mux)
	if err := a.registerTiles(mux, tcfg, reader); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.setupIngest(queue); err != nil {
		a.Close()
		return nil, err
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", srv.NotFound)
	chain, err := a.middleware(srv.StripRootPath)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.handler = httpx.Chain(mux, chain...)
	return a, nil
}

// Handler is the whole HTTP surface (for tests).
func (a *App) Handler() http.Handler { return a.handler }

// Close releases the store and other resources.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	return errors.Join(errs...)
}

// Run serves until ctx is cancelled, then shuts down gracefully. ready,
// when not nil, receives the listening address once requests are accepted.
func (a *App) Run(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	running := 1 + len(a.components)
	errc := make(chan error, running)
	go func() { errc <- srv.Serve(ln) }()
	for _, run := range a.components {
		go func() { errc <- run(ctx) }()
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	var errs []error
	select {
	case err := <-errc: // the server or a component stopped by itself
		running--
		errs = append(errs, err)
	case <-ctx.Done():
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown: %w", err))
	}
	for ; running > 0; running-- {
		errs = append(errs, <-errc)
	}
	var out []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
			out = append(out, err)
		}
	}
	return errors.Join(out...)
}

// NewLogger builds the process logger.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	l, err := config.ParseLogLevel(level)
	if err != nil {
		return nil, err
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
