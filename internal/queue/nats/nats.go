package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tessera-geo/tessera/internal/queue"
)

// Names of the streams, subjects and consumer.
const (
	IngestStream  = "TESSERA_INGEST"
	IngestSubject = "tessera.ingest"
	DLQStream     = "TESSERA_DLQ"
	DLQSubject    = "tessera.dlq"
	NotifyStream  = "TESSERA_NOTIFY"
	NotifySubject = "tessera.notify"
	Consumer      = "tessera-ingest"
)

// Dead-letter headers.
const (
	HeaderReason       = "Tessera-Reason"
	HeaderAttempts     = "Tessera-Attempts"
	HeaderMessageID    = "Tessera-Message-Id"
	HeaderPublished    = "Tessera-Published"
	HeaderDeadLettered = "Tessera-Dead-Lettered"
)

// Options configure Open.
type Options struct {
	// URL of an external NATS server or cluster (comma-separated URLs);
	// empty starts an embedded server.
	URL string
	// Dir is the embedded server's storage directory; its client URL is
	// written to Dir/addr while it runs.
	Dir string
	// Port of the embedded server on 127.0.0.1; 0 picks a free one.
	Port int
	// MaxPayload is the embedded server's largest message (default 8 MiB).
	MaxPayload int32
	// AckWait is how long a delivered message may stay unacknowledged
	// before it is redelivered (default 30s).
	AckWait time.Duration
	// Prefetch is how many messages a receiver buffers (default 2048).
	Prefetch int
	// NotifyMaxAge, when > 0, keeps notifications in the TESSERA_NOTIFY
	// stream for that long, so subscribers can catch up.
	NotifyMaxAge time.Duration
	// Log receives the embedded server's warnings and errors.
	Log *slog.Logger
}

func (o *Options) defaults() {
	if o.MaxPayload == 0 {
		o.MaxPayload = 8 << 20
	}
	if o.AckWait == 0 {
		o.AckWait = 30 * time.Second
	}
	if o.Prefetch == 0 {
		o.Prefetch = 2048
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// AddrFile is where an embedded server started with Dir writes its URL.
func AddrFile(dir string) string { return filepath.Join(dir, "addr") }

// ReadAddr returns the URL of the embedded server running on dir.
func ReadAddr(dir string) (string, error) {
	b, err := os.ReadFile(AddrFile(dir))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("no embedded queue is running on %s (start `tessera serve` with that data dir, or pass --queue nats://...)", dir)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// Queue is a JetStream-backed queue.Queue.
type Queue struct {
	opts   Options
	srv    *server.Server // embedded, or nil
	unlock func()         // releases the embedded store's lock
	nc     *nats.Conn
	js     jetstream.JetStream
	ingest jetstream.Stream
	dlq    jetstream.Stream

	consMu sync.Mutex // guards cons
	cons   jetstream.Consumer
	mu     sync.Mutex // guards iter; serialises Receive
	iter   jetstream.MessagesContext
}

// Open connects to (or starts) the queue and makes sure its streams exist.
func Open(ctx context.Context, opts Options) (*Queue, error) {
	opts.defaults()
	q := &Queue{opts: opts}
	var err error
	// Connection problems (slow consumer, disconnects) go to the log; a
	// message dropped on the client side is redelivered after AckWait.
	copts := []nats.Option{nats.Name("tessera"), nats.MaxReconnects(-1),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			opts.Log.Warn("queue: nats", "err", err)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				opts.Log.Warn("queue: disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { opts.Log.Info("queue: reconnected", "url", nc.ConnectedUrl()) }),
	}
	if opts.URL == "" {
		if err := q.startEmbedded(); err != nil {
			q.Close()
			return nil, err
		}
		q.nc, err = nats.Connect("", append(copts, nats.InProcessServer(q.srv))...)
	} else {
		q.nc, err = nats.Connect(opts.URL, append(copts, nats.Timeout(5*time.Second))...)
	}
	if err != nil {
		q.Close()
		return nil, fmt.Errorf("queue: connect to %s: %w", q.where(), err)
	}
	q.js, err = jetstream.New(q.nc, jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		q.Close()
		return nil, err
	}
	if err := q.ensureStreams(ctx); err != nil {
		q.Close()
		return nil, fmt.Errorf("queue: %s: %w", q.where(), err)
	}
	return q, nil
}

func (q *Queue) where() string {
	if q.opts.URL == "" {
		return "embedded server in " + q.opts.Dir
	}
	return q.opts.URL
}

// URL is the client URL of the queue (the embedded server's, when embedded).
func (q *Queue) URL() string {
	if q.srv != nil {
		return q.srv.ClientURL()
	}
	return q.opts.URL
}

func (q *Queue) startEmbedded() error {
	if q.opts.Dir == "" {
		return errors.New("queue: the embedded server needs a storage directory")
	}
	if err := os.MkdirAll(q.opts.Dir, 0o755); err != nil {
		return err
	}
	unlock, err := lockDir(q.opts.Dir)
	if err != nil {
		return err
	}
	q.unlock = unlock
	port := q.opts.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "tessera",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   q.opts.Dir,
		MaxPayload: q.opts.MaxPayload,
		NoSigs:     true,
		NoLog:      false,
	})
	if err != nil {
		return fmt.Errorf("queue: embedded server: %w", err)
	}
	srv.SetLoggerV2(slogLogger{q.opts.Log}, false, false, false)
	// Start does not block: it returns once the client listener is open,
	// so the check below passes at once. (With `go srv.Start()` the check
	// ran first, failed, and slept its 25 ms poll interval: every start of
	// `tessera serve` waited for it.)
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("queue: the embedded server in %s did not start (is another tessera using this data dir?)", q.opts.Dir)
	}
	q.srv = srv
	tmp := AddrFile(q.opts.Dir) + ".tmp"
	if err := os.WriteFile(tmp, []byte(srv.ClientURL()+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, AddrFile(q.opts.Dir))
}

func (q *Queue) ensureStreams(ctx context.Context) error {
	var err error
	q.ingest, err = q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        IngestStream,
		Description: "tessera ingest messages (STAC items, collections, hrefs, actions)",
		Subjects:    []string{IngestSubject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", IngestStream, err)
	}
	q.dlq, err = q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DLQStream,
		Description: "tessera ingest dead letters: original payload, Tessera-Reason and other headers",
		Subjects:    []string{DLQSubject},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", DLQStream, err)
	}
	if q.opts.NotifyMaxAge > 0 {
		_, err = q.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        NotifyStream,
			Description: "tessera ingest results",
			Subjects:    []string{NotifySubject},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			MaxAge:      q.opts.NotifyMaxAge,
		})
		if err != nil {
			return fmt.Errorf("stream %s: %w", NotifyStream, err)
		}
	}
	return nil
}

// consumer returns the shared durable consumer, creating it on first use.
func (q *Queue) consumer(ctx context.Context) (jetstream.Consumer, error) {
	q.consMu.Lock()
	defer q.consMu.Unlock()
	if q.cons != nil {
		return q.cons, nil
	}
	c, err := q.ingest.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       Consumer,
		Description:   "tessera ingest workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.opts.AckWait,
		MaxDeliver:    -1, // the workers dead-letter by attempt count themselves
		MaxAckPending: 4 * q.opts.Prefetch,
		FilterSubject: IngestSubject,
	})
	if err != nil {
		return nil, fmt.Errorf("queue: consumer %s: %w", Consumer, err)
	}
	q.cons = c
	return c, nil
}

// Publish implements queue.Queue. Messages are published asynchronously
// and the call waits for every acknowledgement.
func (q *Queue) Publish(ctx context.Context, msgs ...[]byte) error {
	if len(msgs) == 1 {
		_, err := q.js.Publish(ctx, IngestSubject, msgs[0])
		return err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	var firstErr error
	for _, m := range msgs {
		f, err := q.js.PublishAsync(IngestSubject, m)
		if err != nil {
			firstErr = err
			break
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if firstErr == nil {
				firstErr = err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return firstErr
}

// Receive implements queue.Queue.
func (q *Queue) Receive(ctx context.Context, max int, linger time.Duration) ([]queue.Message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.iter == nil {
		c, err := q.consumer(ctx)
		if err != nil {
			return nil, err
		}
		q.iter, err = c.Messages(jetstream.PullMaxMessages(q.opts.Prefetch))
		if err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
	}
	var out []queue.Message
	m, err := q.iter.Next(jetstream.NextContext(ctx))
	if err != nil {
		return nil, q.iterErr(ctx, err)
	}
	out = append(out, q.wrap(m))
	deadline := time.Now().Add(linger)
	for len(out) < max {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		m, err := q.iter.Next(jetstream.NextMaxWait(left))
		if err != nil {
			if errors.Is(err, nats.ErrTimeout) {
				break
			}
			if len(out) > 0 {
				_ = q.iterErr(ctx, err)
				break
			}
			return nil, q.iterErr(ctx, err)
		}
		out = append(out, q.wrap(m))
	}
	return out, nil
}

// iterErr maps an iterator error, dropping a closed iterator so that the
// next Receive makes a new one. q.mu must be held.
func (q *Queue) iterErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, jetstream.ErrMsgIteratorClosed) || errors.Is(err, jetstream.ErrNoHeartbeat) {
		q.iter.Stop()
		q.iter = nil
	}
	return fmt.Errorf("queue: receive: %w", err)
}

func (q *Queue) wrap(m jetstream.Msg) queue.Message {
	w := &message{m: m, q: q, attempt: 1}
	if md, err := m.Metadata(); err == nil {
		w.seq = md.Sequence.Stream
		w.attempt = int(md.NumDelivered)
		w.published = md.Timestamp
	}
	return w
}

type message struct {
	m         jetstream.Msg
	q         *Queue
	seq       uint64
	attempt   int
	published time.Time
}

func (m *message) Data() []byte         { return m.m.Data() }
func (m *message) ID() string           { return strconv.FormatUint(m.seq, 10) }
func (m *message) Attempt() int         { return m.attempt }
func (m *message) Published() time.Time { return m.published }

func (m *message) Ack(context.Context) error { return m.m.Ack() }

func (m *message) Nack(_ context.Context, delay time.Duration) error {
	if delay <= 0 {
		return m.m.Nak()
	}
	return m.m.NakWithDelay(delay)
}

// Term deletes the message from the stream and then terminates the
// delivery: older servers (2.9) keep a terminated message in a work queue.
// Deleting first avoids racing the server's own removal of a terminated
// message, which makes the delete fail with "sequence not found".
func (m *message) Term(ctx context.Context) error {
	if err := m.q.ingest.DeleteMsg(ctx, m.seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return err
	}
	return m.m.Term()
}

// DeadLetter implements queue.Queue.
func (q *Queue) DeadLetter(ctx context.Context, dl queue.DeadLetter) error {
	if dl.DeadLettered.IsZero() {
		dl.DeadLettered = time.Now()
	}
	msg := nats.NewMsg(DLQSubject)
	msg.Data = dl.Data
	msg.Header.Set(HeaderReason, headerValue(dl.Reason))
	msg.Header.Set(HeaderAttempts, strconv.Itoa(dl.Attempts))
	msg.Header.Set(HeaderMessageID, dl.MessageID)
	if !dl.Published.IsZero() {
		msg.Header.Set(HeaderPublished, dl.Published.UTC().Format(time.RFC3339Nano))
	}
	msg.Header.Set(HeaderDeadLettered, dl.DeadLettered.UTC().Format(time.RFC3339Nano))
	_, err := q.js.PublishMsg(ctx, msg)
	return err
}

// headerValue keeps a header on one line and within a sane size.
func headerValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 2048 {
		s = s[:2048] + "…"
	}
	return s
}

// Notify implements queue.Queue with a core NATS publish on
// tessera.notify (kept by the TESSERA_NOTIFY stream when configured).
func (q *Queue) Notify(_ context.Context, n queue.Notification) error {
	msg := nats.NewMsg(NotifySubject)
	msg.Data = n.Data
	for k, v := range n.Attributes {
		msg.Header.Set(k, headerValue(v))
	}
	return q.nc.PublishMsg(msg)
}

// Stats implements queue.Queue.
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	var st queue.Stats
	// Look the consumer up rather than create it: a client's options
	// (AckWait) must not overwrite the workers'.
	ci, err := q.js.Consumer(ctx, IngestStream, Consumer)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		si, err := q.ingest.Info(ctx)
		if err != nil {
			return st, err
		}
		st.Pending = si.State.Msgs
	case err != nil:
		return st, err
	default:
		info, err := ci.Info(ctx)
		if err != nil {
			return st, err
		}
		st.Pending, st.InFlight = info.NumPending, uint64(info.NumAckPending)
	}
	di, err := q.dlq.Info(ctx)
	if err != nil {
		return st, err
	}
	st.DeadLetters = di.State.Msgs
	return st, nil
}

// DeadLetters implements queue.Queue.
func (q *Queue) DeadLetters() queue.DeadLetters { return deadLetters{q} }

// Close implements queue.Queue.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.iter != nil {
		q.iter.Stop()
		q.iter = nil
	}
	q.mu.Unlock()
	if q.nc != nil {
		q.nc.Close()
	}
	if q.srv != nil {
		_ = os.Remove(AddrFile(q.opts.Dir))
		q.srv.Shutdown()
		q.srv.WaitForShutdown()
	}
	if q.unlock != nil {
		q.unlock()
	}
	return nil
}

var _ queue.Queue = (*Queue)(nil)

// slogLogger routes the embedded server's log to slog (warnings and up;
// notices at debug level).
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Noticef(f string, v ...any) { s.l.Debug("nats: " + fmt.Sprintf(f, v...)) }
func (s slogLogger) Warnf(f string, v ...any)   { s.l.Warn("nats: " + fmt.Sprintf(f, v...)) }
func (s slogLogger) Fatalf(f string, v ...any)  { s.l.Error("nats: " + fmt.Sprintf(f, v...)) }
func (s slogLogger) Errorf(f string, v ...any)  { s.l.Error("nats: " + fmt.Sprintf(f, v...)) }
func (s slogLogger) Debugf(f string, v ...any)  {}
func (s slogLogger) Tracef(f string, v ...any)  {}
