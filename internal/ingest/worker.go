package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/tessera-geo/tessera/internal/queue"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// Store is what the worker needs from the catalog: writes, and reading a
// collection back for the truncate action.
type Store interface {
	store.Writer
	store.CollectionReader
}

var _ Store = store.Store(nil)

// Options tune the worker.
type Options struct {
	// Workers is the number of concurrent batch loops (default 2): while
	// one writes, another decodes.
	Workers int
	// BatchSize is the largest number of messages handled (and items
	// upserted) together (default 1000).
	BatchSize int
	// Linger is how long a batch waits to fill after its first message
	// (default 50ms).
	Linger time.Duration
	// Concurrency bounds decoding and href fetching within a batch
	// (default 8).
	Concurrency int
	// MaxMessageBytes is the largest payload accepted (default 4 MiB).
	MaxMessageBytes int
	// MaxAttempts dead-letters a message whose transient failure (a fetch)
	// persists after that many deliveries (default 10; < 0: retry forever).
	// Store failures are retried without limit, missing collections for
	// CollectionWait.
	MaxAttempts int
	// RetryBase and RetryMax bound the exponential backoff between
	// attempts (defaults 1s and 5m).
	RetryBase, RetryMax time.Duration
	// CollectionWait is how long after publication an item whose
	// collection does not exist is retried before it is dead-lettered
	// (default 10m).
	CollectionWait time.Duration
	// AllowTruncate accepts {"type":"action","command":"truncate",...}.
	AllowTruncate bool
	// Notify publishes a result notification for every record.
	Notify bool
	// Fetch limits href messages.
	Fetch FetchOptions
	// StatsInterval is how often queue lag is measured (default 5s).
	StatsInterval time.Duration
	// Now stamps created/updated (default time.Now).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Linger <= 0 {
		o.Linger = 50 * time.Millisecond
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 4 << 20
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 10
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 5 * time.Minute
	}
	if o.CollectionWait <= 0 {
		o.CollectionWait = 10 * time.Minute
	}
	if o.StatsInterval <= 0 {
		o.StatsInterval = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Deps are the worker's collaborators.
type Deps struct {
	Queue   queue.Queue
	Store   Store
	Log     *slog.Logger
	Metrics *Metrics // nil: unregistered metrics
}

// Worker consumes the ingest queue.
type Worker struct {
	q     queue.Queue
	st    Store
	log   *slog.Logger
	m     *Metrics
	opts  Options
	fetch *Fetcher

	// Batches decode concurrently but write in the order they were
	// received, so that a collection published before its items is
	// written before them even when another loop received the items.
	recvMu sync.Mutex
	next   uint64 // ticket of the next batch received
	turnMu sync.Mutex
	turnC  *sync.Cond
	turn   uint64 // ticket of the batch allowed to write
}

// New returns a worker; Run starts it.
func New(deps Deps, opts Options) *Worker {
	opts.defaults()
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics(nil)
	}
	w := &Worker{q: deps.Queue, st: deps.Store, log: deps.Log, m: deps.Metrics, opts: opts, fetch: NewFetcher(opts.Fetch)}
	w.turnC = sync.NewCond(&w.turnMu)
	return w
}

// Run consumes until ctx ends. A batch in progress when ctx ends is
// finished (written and acknowledged) before Run returns.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range w.opts.Workers {
		wg.Go(func() { w.loop(ctx) })
	}
	wg.Go(func() { w.measure(ctx) })
	wg.Wait()
	return ctx.Err()
}

func (w *Worker) loop(ctx context.Context) {
	for ctx.Err() == nil {
		w.recvMu.Lock()
		msgs, err := w.q.Receive(ctx, w.opts.BatchSize, w.opts.Linger)
		ticket := w.next
		if err == nil {
			w.next++
		}
		w.recvMu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.log.Warn("ingest: receive", "err", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
			continue
		}
		// Finish the batch even when asked to stop: its messages are ours
		// until acknowledged.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		w.handle(bctx, msgs, ticket)
		cancel()
	}
}

func (w *Worker) measure(ctx context.Context) {
	t := time.NewTicker(w.opts.StatsInterval)
	defer t.Stop()
	for {
		sctx, cancel := context.WithTimeout(ctx, w.opts.StatsInterval)
		if st, err := w.q.Stats(sctx); err == nil {
			w.m.Pending.Set(float64(st.Pending))
			w.m.InFlight.Set(float64(st.InFlight))
			w.m.DeadLetters.Set(float64(st.DeadLetters))
		}
		cancel()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// batchMsg is a message with its decoded records.
type batchMsg struct {
	msg  queue.Message
	recs []record
}

// handle processes one batch of messages: decode, write (in ticket
// order), then settle each message (ack, retry later, or dead-letter).
func (w *Worker) handle(ctx context.Context, msgs []queue.Message, ticket uint64) {
	w.m.Received.Add(float64(len(msgs)))
	t0 := time.Now()
	batch := w.decode(ctx, msgs)
	t1 := time.Now()
	w.turnMu.Lock()
	for w.turn != ticket {
		w.turnC.Wait()
	}
	w.turnMu.Unlock()
	func() {
		defer func() { // let the next batch write, whatever happened here
			w.turnMu.Lock()
			w.turn++
			w.turnC.Broadcast()
			w.turnMu.Unlock()
		}()
		w.write(ctx, batch)
	}()
	now := time.Now()
	for i := range batch {
		w.settle(ctx, &batch[i], now)
	}
	w.log.Debug("ingest: batch", "messages", len(msgs), "decode", t1.Sub(t0), "write", now.Sub(t1), "settle", time.Since(now))
}

func (w *Worker) decode(ctx context.Context, msgs []queue.Message) []batchMsg {
	batch := make([]batchMsg, len(msgs))
	d := &decoder{opts: stac.DecodeOptions{Now: w.opts.Now()}, fetch: w.fetch, max: w.opts.MaxMessageBytes}
	n := min(w.opts.Concurrency, len(msgs))
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			for i := k; i < len(msgs); i += n {
				batch[i] = batchMsg{msg: msgs[i], recs: d.expand(ctx, msgs[i].Data(), 0, nil)}
			}
		})
	}
	wg.Wait()
	return batch
}

// write stores the batch in message order: collections as they come,
// items in one PutItems call per run between actions.
func (w *Worker) write(ctx context.Context, batch []batchMsg) {
	var items []stac.Item
	var owners []*record
	flush := func() {
		if len(items) == 0 {
			return
		}
		errs, err := w.st.PutItems(ctx, items, store.Upsert)
		for i, r := range owners {
			switch {
			case err != nil:
				r.fail = transient(ReasonStore, fmt.Errorf("writing a batch of %d items: %w", len(items), err))
			case errs[i] == nil:
			case errors.Is(errs[i], store.ErrCollectionMissing) && r.item.Collection != "":
				r.fail = transient(ReasonMissingCollection, fmt.Errorf("collection %q does not exist", r.item.Collection))
			default:
				r.fail = &Failure{Reason: ReasonStore, Err: errs[i]}
			}
		}
		items, owners = items[:0], owners[:0]
	}
	for i := range batch {
		for j := range batch[i].recs {
			r := &batch[i].recs[j]
			switch {
			case r.fail != nil:
			case r.item != nil:
				items = append(items, *r.item)
				owners = append(owners, r)
			case r.coll != nil:
				if err := w.st.PutCollection(ctx, *r.coll, store.Upsert); err != nil {
					r.fail = transient(ReasonStore, fmt.Errorf("writing collection %q: %w", r.coll.ID, err))
				}
			case r.action != nil:
				flush()
				r.fail = w.act(ctx, r.action)
			}
		}
	}
	flush()
}

// act runs a control action. Truncate deletes the collection (and so all
// its items) and writes its stored document back: the store interface
// needs nothing more. A crash between the two leaves the collection
// missing, and the redelivered action then fails with "collection not
// found" (re-create it from the dead letter's reason is not possible: keep
// collection documents in source control).
func (w *Worker) act(ctx context.Context, a *Action) *Failure {
	switch a.Command {
	case "truncate":
	default:
		return permanent(ReasonAction, "unknown action command %q (want truncate)", a.Command)
	}
	if !w.opts.AllowTruncate {
		return permanent(ReasonAction, "truncate actions are disabled (enable with --ingest-allow-truncate)")
	}
	if a.Collection == "" {
		return permanent(ReasonAction, `truncate needs a "collection"`)
	}
	rec, err := w.st.Collection(ctx, a.Collection)
	if errors.Is(err, store.ErrNotFound) {
		return permanent(ReasonAction, "truncate: collection %q not found", a.Collection)
	}
	if err != nil {
		return transient(ReasonStore, err)
	}
	c, err := stac.DecodeCollection(rec.Doc, stac.DecodeOptions{})
	if err != nil {
		return permanent(ReasonAction, "truncate: stored collection %q: %v", a.Collection, err)
	}
	if err := w.st.DeleteCollection(ctx, a.Collection); err != nil && !errors.Is(err, store.ErrNotFound) {
		return transient(ReasonStore, err)
	}
	if err := w.st.PutCollection(ctx, c, store.Upsert); err != nil {
		return transient(ReasonStore, fmt.Errorf("truncate: re-creating collection %q: %w", a.Collection, err))
	}
	w.log.Info("ingest: truncated collection", "collection", a.Collection)
	return nil
}

// settle acknowledges, retries or dead-letters one message.
func (w *Worker) settle(ctx context.Context, b *batchMsg, now time.Time) {
	msg := b.msg
	// Which transient failure governs the retry: the store failing a whole
	// batch is the catalog's problem, not the message's, and is retried
	// without limit; a missing collection is waited for CollectionWait
	// after publication; anything else (fetches) MaxAttempts times.
	var retry *Failure
	rank := func(f *Failure) int {
		switch f.Reason {
		case ReasonStore:
			return 0
		case ReasonMissingCollection:
			return 1
		}
		return 2
	}
	for i := range b.recs {
		if f := b.recs[i].fail; f != nil && f.Transient && (retry == nil || rank(f) > rank(retry)) {
			retry = f
		}
	}
	if retry != nil {
		giveUp := ""
		switch retry.Reason {
		case ReasonStore:
		case ReasonMissingCollection:
			if !msg.Published().IsZero() && now.Sub(msg.Published()) >= w.opts.CollectionWait {
				giveUp = fmt.Sprintf("still missing %s after publication", w.opts.CollectionWait)
			}
		default:
			if w.opts.MaxAttempts > 0 && msg.Attempt() >= w.opts.MaxAttempts {
				giveUp = fmt.Sprintf("gave up after %d attempts", msg.Attempt())
			}
		}
		if giveUp == "" {
			for i := range b.recs {
				if f := b.recs[i].fail; f != nil {
					w.m.Failed.WithLabelValues(string(f.Reason)).Inc()
				}
			}
			w.retry(ctx, msg, retry)
			return
		}
		for i := range b.recs {
			if f := b.recs[i].fail; f != nil && f.Transient {
				f.Transient = false
				f.Err = fmt.Errorf("%s: %w", giveUp, f.Err)
			}
		}
	}
	// Dead-letter what failed for good, notify, then acknowledge.
	for i := range b.recs {
		r := &b.recs[i]
		if r.fail == nil {
			continue
		}
		w.m.Failed.WithLabelValues(string(r.fail.Reason)).Inc()
		data := r.raw
		if len(b.recs) == 1 {
			data = msg.Data() // the original payload, envelope and all
		}
		err := w.q.DeadLetter(ctx, queue.DeadLetter{
			MessageID: msg.ID(), Data: data, Reason: r.fail.Error(),
			Attempts: msg.Attempt(), Published: msg.Published(), DeadLettered: now,
		})
		if err != nil {
			w.log.Error("ingest: dead-lettering", "message", msg.ID(), "err", err)
			w.retry(ctx, msg, transient(ReasonStore, err))
			return
		}
		w.m.DeadLettered.Inc()
		w.log.Debug("ingest: dead-lettered", "message", msg.ID(), "reason", r.fail.Error())
	}
	for i := range b.recs {
		r := &b.recs[i]
		if r.fail == nil {
			switch {
			case r.item != nil:
				w.m.Succeeded.WithLabelValues("Item").Inc()
				if p := msg.Published(); !p.IsZero() {
					w.m.Latency.Observe(now.Sub(p).Seconds())
				}
			case r.coll != nil:
				w.m.Succeeded.WithLabelValues("Collection").Inc()
			default:
				w.m.Succeeded.WithLabelValues("action").Inc()
			}
		}
		if w.opts.Notify {
			if err := w.q.Notify(ctx, notification(r)); err != nil {
				w.log.Warn("ingest: notify", "message", msg.ID(), "err", err)
			}
		}
	}
	if err := msg.Ack(ctx); err != nil {
		w.log.Warn("ingest: ack", "message", msg.ID(), "err", err)
	}
}

func (w *Worker) retry(ctx context.Context, msg queue.Message, why *Failure) {
	d := w.backoff(msg.Attempt())
	if why.Reason == ReasonMissingCollection && !msg.Published().IsZero() {
		if left := w.opts.CollectionWait - time.Since(msg.Published()); left > 0 && left < d {
			d = left
		}
	}
	w.m.Retried.Inc()
	w.log.Debug("ingest: retrying", "message", msg.ID(), "attempt", msg.Attempt(), "in", d, "reason", why.Error())
	if err := msg.Nack(ctx, d); err != nil {
		w.log.Warn("ingest: nack", "message", msg.ID(), "err", err)
	}
}

// backoff is RetryBase·2^(attempt-1), capped at RetryMax, with ±20% jitter.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.opts.RetryBase
	for i := 1; i < attempt && d < w.opts.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.opts.RetryMax)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
