package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Queue says where the ingest queue is.
type Queue struct {
	// URL of an external NATS server (nats://host:4222, comma-separated
	// for a cluster); empty means the embedded queue in the data dir.
	URL string
	// Port of the embedded queue on 127.0.0.1 (0: any free port; the
	// chosen one is written to <data-dir>/queue/addr).
	Port int
	// AckWait is how long a worker may hold a message before it is
	// redelivered.
	AckWait time.Duration
	// NotifyMaxAge keeps notifications in a stream for that long (0: they
	// are published but not kept).
	NotifyMaxAge time.Duration
}

// Ingest configures the ingest pipeline (the queue and its workers).
type Ingest struct {
	// Enabled runs the queue (and workers) in serve; the zero value is off.
	Enabled bool
	Queue
	Workers             int
	BatchSize           int
	Linger              time.Duration
	MaxMessageBytes     int
	MaxAttempts         int
	RetryBase           time.Duration
	RetryMax            time.Duration
	CollectionWait      time.Duration
	AllowTruncate       bool
	Notify              bool
	FetchTimeout        time.Duration
	FetchMaxBytes       int64
	FetchAllowLinkLocal bool
	FileRoots           []string
}

// Worker configures `tessera worker`.
type Worker struct {
	Common
	Ingest
	// MetricsAddr, when set, serves Prometheus metrics at /metrics there.
	MetricsAddr string
}

// QueueClient configures the commands that talk to a running queue
// (`tessera ingest publish`, `tessera dlq ...`).
type QueueClient struct {
	DataDir  string
	URL      string
	LogLevel string
}

// QueueDir is where the embedded queue keeps its files.
func QueueDir(dataDir string) string { return filepath.Join(dataDir, "queue") }

// AddFlags registers the queue location flags.
func (c *Queue) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.URL, "queue", "", "NATS URL of an external ingest queue, e.g. nats://host:4222 (default: the embedded queue in the data dir) (env TESSERA_QUEUE)")
	fs.IntVar(&c.Port, "queue-port", 0, "port of the embedded queue on 127.0.0.1; 0 picks a free one, written to <data-dir>/queue/addr (env TESSERA_QUEUE_PORT)")
	fs.DurationVar(&c.AckWait, "queue-ack-wait", 30*time.Second, "how long a worker may hold a message before it is redelivered (env TESSERA_QUEUE_ACK_WAIT)")
	fs.DurationVar(&c.NotifyMaxAge, "queue-notify-max-age", 0, "keep ingest notifications in the TESSERA_NOTIFY stream this long; 0 publishes without keeping them (env TESSERA_QUEUE_NOTIFY_MAX_AGE)")
}

// AddFlags registers the ingest flags.
func (c *Ingest) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&c.Enabled, "ingest", true, "run the ingest queue (embedded unless --queue) and its workers (env TESSERA_INGEST)")
	c.Queue.AddFlags(fs)
	fs.IntVar(&c.Workers, "ingest-workers", 2, "concurrent ingest batch loops; 0 disables ingest in serve (env TESSERA_INGEST_WORKERS)")
	fs.IntVar(&c.BatchSize, "ingest-batch-size", 1000, "messages per ingest batch (one store transaction) (env TESSERA_INGEST_BATCH_SIZE)")
	fs.DurationVar(&c.Linger, "ingest-linger", 50*time.Millisecond, "how long a batch waits to fill after its first message (env TESSERA_INGEST_LINGER)")
	fs.IntVar(&c.MaxMessageBytes, "ingest-max-message-bytes", 4<<20, "largest message accepted; larger ones are dead-lettered (env TESSERA_INGEST_MAX_MESSAGE_BYTES)")
	fs.IntVar(&c.MaxAttempts, "ingest-max-attempts", 10, "deliveries before a message whose href fetch keeps failing is dead-lettered; -1 retries forever (store failures are always retried) (env TESSERA_INGEST_MAX_ATTEMPTS)")
	fs.DurationVar(&c.RetryBase, "ingest-retry-base", time.Second, "first retry delay, doubled on every attempt (env TESSERA_INGEST_RETRY_BASE)")
	fs.DurationVar(&c.RetryMax, "ingest-retry-max", 5*time.Minute, "longest retry delay (env TESSERA_INGEST_RETRY_MAX)")
	fs.DurationVar(&c.CollectionWait, "ingest-collection-wait", 10*time.Minute, "how long an item whose collection does not exist is retried before it is dead-lettered (env TESSERA_INGEST_COLLECTION_WAIT)")
	fs.BoolVar(&c.AllowTruncate, "ingest-allow-truncate", false, `accept {"type":"action","command":"truncate","collection":ID} messages, which delete every item of a collection (env TESSERA_INGEST_ALLOW_TRUNCATE)`)
	fs.BoolVar(&c.Notify, "ingest-notify", true, "publish a result on tessera.notify for every ingested or failed record (env TESSERA_INGEST_NOTIFY)")
	fs.DurationVar(&c.FetchTimeout, "ingest-fetch-timeout", 10*time.Second, "timeout of one href fetch (env TESSERA_INGEST_FETCH_TIMEOUT)")
	fs.Int64Var(&c.FetchMaxBytes, "ingest-fetch-max-bytes", 16<<20, "largest document an href may point to (env TESSERA_INGEST_FETCH_MAX_BYTES)")
	fs.BoolVar(&c.FetchAllowLinkLocal, "ingest-fetch-allow-link-local", false, "allow hrefs to link-local and cloud metadata addresses (169.254.0.0/16, fd00:ec2::254) (env TESSERA_INGEST_FETCH_ALLOW_LINK_LOCAL)")
	fs.StringSliceVar(&c.FileRoots, "ingest-file-root", nil, "directory file:// hrefs may read from (repeatable; default: file:// hrefs are refused) (env TESSERA_INGEST_FILE_ROOT, comma-separated)")
}

// AddFlags registers worker's flags.
func (c *Worker) AddFlags(fs *pflag.FlagSet) {
	c.Common.AddFlags(fs)
	c.Ingest.AddFlags(fs)
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9090 (env TESSERA_METRICS_ADDR)")
}

// AddFlags registers the flags of the queue client commands.
func (c *QueueClient) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", "./data", "data dir of the running `tessera serve` whose embedded queue to use (env TESSERA_DATA_DIR)")
	fs.StringVar(&c.URL, "queue", "", "NATS URL of an external ingest queue (instead of --data-dir) (env TESSERA_QUEUE)")
	fs.StringVar(&c.LogLevel, "log-level", "warn", "debug, info, warn or error (env TESSERA_LOG_LEVEL)")
}

// Validate checks the queue settings.
func (c Queue) Validate() error {
	if c.URL != "" {
		for _, u := range strings.Split(c.URL, ",") {
			if !strings.HasPrefix(u, "nats://") && !strings.HasPrefix(u, "tls://") {
				return fmt.Errorf("--queue %q: want nats://host:port (SQS/SNS is not supported yet)", c.URL)
			}
		}
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("--queue-port %d: out of range", c.Port)
	}
	if c.AckWait < time.Second {
		return fmt.Errorf("--queue-ack-wait %s: must be at least 1s", c.AckWait)
	}
	return nil
}

// Validate checks the ingest settings.
func (c Ingest) Validate() error {
	var errs []error
	if err := c.Queue.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("--ingest-workers must be ≥ 0, got %d", c.Workers))
	}
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("--ingest-batch-size must be ≥ 1, got %d", c.BatchSize))
	}
	if c.Linger <= 0 {
		errs = append(errs, fmt.Errorf("--ingest-linger must be > 0, got %s", c.Linger))
	}
	if c.MaxMessageBytes < 1 {
		errs = append(errs, fmt.Errorf("--ingest-max-message-bytes must be ≥ 1, got %d", c.MaxMessageBytes))
	}
	if c.MaxAttempts == 0 || c.MaxAttempts < -1 {
		errs = append(errs, fmt.Errorf("--ingest-max-attempts must be ≥ 1 or -1, got %d", c.MaxAttempts))
	}
	if c.RetryBase <= 0 || c.RetryMax < c.RetryBase {
		errs = append(errs, fmt.Errorf("--ingest-retry-base (%s) must be > 0 and ≤ --ingest-retry-max (%s)", c.RetryBase, c.RetryMax))
	}
	if c.CollectionWait <= 0 {
		errs = append(errs, fmt.Errorf("--ingest-collection-wait must be > 0, got %s", c.CollectionWait))
	}
	if c.FetchTimeout <= 0 || c.FetchMaxBytes < 1 {
		errs = append(errs, errors.New("--ingest-fetch-timeout and --ingest-fetch-max-bytes must be > 0"))
	}
	return errors.Join(errs...)
}

// Validate checks worker's settings.
func (c Worker) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if c.Ingest.URL == "" {
		return errors.New("tessera worker needs --queue nats://... (the embedded queue runs inside tessera serve, which has its own workers)")
	}
	if c.Workers < 1 {
		return fmt.Errorf("--ingest-workers must be ≥ 1, got %d", c.Workers)
	}
	return c.Ingest.Validate()
}

// Validate checks the queue client settings.
func (c QueueClient) Validate() error {
	if c.URL == "" && c.DataDir == "" {
		return errors.New("--data-dir or --queue is required")
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		return err
	}
	return Queue{URL: c.URL, AckWait: time.Second}.Validate()
}
