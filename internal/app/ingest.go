package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tessera-geo/tessera/internal/config"
	"github.com/tessera-geo/tessera/internal/ingest"
	"github.com/tessera-geo/tessera/internal/queue"
	natsq "github.com/tessera-geo/tessera/internal/queue/nats"
)

// startQueue starts opening the ingest queue of `tessera serve` (the
// embedded JetStream server recovers its streams, the slowest part of a
// start) while the store and the API are set up; setupIngest waits for it.
// The embedded queue runs even with --ingest-workers 0, so that publishers
// can reach it while the workers run elsewhere. It returns nil when serve
// runs no queue.
func (a *App) startQueue(ctx context.Context) (*pendingQueue, error) {
	c := a.cfg.Ingest
	if !c.Enabled || (c.Workers == 0 && c.URL != "") {
		return nil, nil
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	p := &pendingQueue{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.q, p.err = OpenQueue(ctx, a.cfg.DataDir, c.Queue, a.log)
	}()
	a.closers = append(a.closers, func() error {
		if q, err := p.wait(); err == nil {
			return q.Close()
		}
		return nil
	})
	return p, nil
}

// pendingQueue is a queue being opened.
type pendingQueue struct {
	done chan struct{}
	q    *natsq.Queue
	err  error
}

func (p *pendingQueue) wait() (*natsq.Queue, error) {
	<-p.done
	return p.q, p.err
}

// setupIngest adds the ingest workers of `tessera serve` to a.components
// once the queue startQueue opens is up.
func (a *App) setupIngest(p *pendingQueue) error {
	if p == nil {
		return nil
	}
	q, err := p.wait()
	if err != nil {
		return err
	}
	c := a.cfg.Ingest
	if c.URL == "" {
		a.log.Info("embedded ingest queue", "url", q.URL(), "dir", config.QueueDir(a.cfg.DataDir))
	}
	if c.Workers == 0 {
		return nil
	}
	w := ingest.New(ingest.Deps{Queue: q, Store: a.store, Log: a.log, Metrics: ingest.NewMetrics(a.metrics)}, IngestOptions(c))
	a.components = append(a.components, w.Run)
	return nil
}

// OpenQueue opens the ingest queue: the external NATS server c.URL names,
// or an embedded one storing its files in <dataDir>/queue.
func OpenQueue(ctx context.Context, dataDir string, c config.Queue, log *slog.Logger) (*natsq.Queue, error) {
	return natsq.Open(ctx, natsq.Options{
		URL:          c.URL,
		Dir:          config.QueueDir(dataDir),
		Port:         c.Port,
		AckWait:      c.AckWait,
		NotifyMaxAge: c.NotifyMaxAge,
		Log:          log,
	})
}

// ConnectQueue connects a client command to the queue: the external one
// c.URL names, or the embedded queue of the `tessera serve` running on
// c.DataDir.
func ConnectQueue(ctx context.Context, c config.QueueClient) (queue.Queue, error) {
	url := c.URL
	if url == "" {
		var err error
		if url, err = natsq.ReadAddr(config.QueueDir(c.DataDir)); err != nil {
			return nil, err
		}
	}
	q, err := natsq.Open(ctx, natsq.Options{URL: url})
	if err != nil && c.URL == "" {
		return nil, fmt.Errorf("%w (is `tessera serve --data-dir %s` running?)", err, c.DataDir)
	}
	return q, err
}

// RunWorker runs `tessera worker`: ingest workers on an external queue
// writing to the configured store, until ctx ends.
func RunWorker(ctx context.Context, cfg config.Worker, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	st, err := OpenStore(ctx, cfg.Common)
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := OpenQueue(ctx, cfg.DataDir, cfg.Ingest.Queue, log)
	if err != nil {
		return err
	}
	defer q.Close()
	reg := prometheus.NewRegistry()
	w := ingest.New(ingest.Deps{Queue: q, Store: st, Log: log, Metrics: ingest.NewMetrics(reg)}, IngestOptions(cfg.Ingest))
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	}
	log.Info("ingest worker running", "queue", cfg.Ingest.URL, "workers", cfg.Ingest.Workers)
	err = w.Run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// IngestOptions maps the ingest configuration to worker options.
func IngestOptions(c config.Ingest) ingest.Options {
	return ingest.Options{
		Workers:         c.Workers,
		BatchSize:       c.BatchSize,
		Linger:          c.Linger,
		MaxMessageBytes: c.MaxMessageBytes,
		MaxAttempts:     c.MaxAttempts,
		RetryBase:       c.RetryBase,
		RetryMax:        c.RetryMax,
		CollectionWait:  c.CollectionWait,
		AllowTruncate:   c.AllowTruncate,
		Notify:          c.Notify,
		Fetch: ingest.FetchOptions{
			Timeout:        c.FetchTimeout,
			MaxBytes:       c.FetchMaxBytes,
			AllowLinkLocal: c.FetchAllowLinkLocal,
			FileRoots:      c.FileRoots,
		},
	}
}
