package loader

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// Options tune a load.
type Options struct {
	BatchSize int // items per transaction (default 5000)
	Workers   int // decoding goroutines (default GOMAXPROCS)
	// Writers is how many batches are written at once (default 2): a
	// store that takes concurrent writes (PostgreSQL) then writes one
	// batch while the next is sent; one that serialises them (SQLite)
	// just holds one more batch in memory.
	Writers int
	// Errors receives one line per failed record (default: discarded).
	Errors io.Writer
	// Progress is called with the bytes read so far, from one goroutine.
	Progress func(bytesRead int64)
	// Now stamps created/updated (default time.Now).
	Now func() time.Time
}

// Summary counts what a load did.
type Summary struct {
	Items, Collections, Failed int
	Elapsed                    time.Duration
}

// ItemsPerSecond is the load rate.
func (s Summary) ItemsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Items) / s.Elapsed.Seconds()
}

func (s Summary) String() string {
	return fmt.Sprintf("loaded %d items and %d collections, %d failed, in %s (%.0f items/s)",
		s.Items, s.Collections, s.Failed, s.Elapsed.Round(time.Millisecond), s.ItemsPerSecond())
}

// decoded is a record after decoding.
type decoded struct {
	where      string
	item       *stac.Item
	collection *stac.Collection
	err        error
}

// Load reads every file and writes its records to st.
func Load(ctx context.Context, st store.Writer, files []string, opts Options) (Summary, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Writers <= 0 {
		opts.Writers = 2
	}
	if opts.Errors == nil {
		opts.Errors = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// reader → raws (in chunks) → decoders → decoded (in chunks) → writer
	raws := make(chan []raw, 4*opts.Workers)
	out := make(chan []decoded, 4*opts.Workers)
	var readErr error
	go func() {
		defer close(raws)
		readErr = readAll(ctx, files, raws, opts.Progress)
	}()
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dopts := stac.DecodeOptions{Now: opts.Now()}
			for chunk := range raws {
				res := make([]decoded, len(chunk))
				for i, r := range chunk {
					res[i] = decode(r, dopts)
				}
				select {
				case out <- res:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()

	w := newWriter(st, opts)
	for chunk := range out {
		if err := w.add(ctx, chunk); err != nil {
			cancel()
			w.wait()
			return w.sum, err
		}
	}
	w.flush(ctx)
	if err := w.wait(); err != nil {
		return w.sum, err
	}
	if err := w.retryOrphans(ctx); err != nil {
		return w.sum, err
	}
	w.sum.Elapsed = time.Since(start)
	if readErr != nil {
		return w.sum, readErr
	}
	return w.sum, ctx.Err()
}

func readAll(ctx context.Context, files []string, raws chan<- []raw, progress func(int64)) error {
	const chunkSize = 256
	chunk := make([]raw, 0, chunkSize)
	var read int64
	send := func() bool {
		if len(chunk) == 0 {
			return true
		}
		select {
		case raws <- chunk:
			chunk = make([]raw, 0, chunkSize)
			if progress != nil {
				progress(read)
			}
			return true
		case <-ctx.Done():
			return false
		}
	}
	add := func(rec raw) {
		read += int64(len(rec.doc)) + 1
		chunk = append(chunk, rec)
		if len(chunk) == chunkSize {
			send()
		}
	}
	for _, f := range files {
		if err := readPath(f, add); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	send()
	return nil
}

func readPath(path string, add func(raw)) error {
	if path == "-" {
		return readFile(path, os.Stdin, add)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return readFile(path, f, add)
}

func decode(r raw, opts stac.DecodeOptions) decoded {
	d, err := stac.Decode(r.doc, opts)
	return decoded{where: r.where, item: d.Item, collection: d.Collection, err: err}
}

// writer batches items and writes collections as they come. Batches are
// written by up to opts.Writers goroutines at once; a batch holding an
// item that a batch in flight also holds waits for it, so the last copy
// of an item read is the one stored.
type writer struct {
	st    store.Writer
	opts  Options
	batch []stac.Item
	where []string

	slots    chan struct{} // one per batch in flight
	inflight sync.WaitGroup
	mu       sync.Mutex // guards what follows
	keys     map[itemKey]int
	// orphans are the items whose collection was missing, by key: the
	// last copy of each is retried at the end unless a later copy was
	// written since.
	orphans map[itemKey]orphan
	sum     Summary
	err     error // the first failed batch write
	batches int   // batches started, which numbers them
}

// orphan is an item written before its collection, with its place in the
// input (batch number, index) so retries keep the input's order.
type orphan struct {
	batch, index int
	decoded
	// earlier is how many earlier copies of the item were orphaned too:
	// they share its fate (loaded when it is, or superseded by a later
	// copy; failed when it fails).
	earlier int
}

type itemKey struct{ collection, id string }

func newWriter(st store.Writer, opts Options) *writer {
	return &writer{st: st, opts: opts, slots: make(chan struct{}, opts.Writers), keys: map[itemKey]int{},
		orphans: map[itemKey]orphan{}}
}

// fail counts a failed record; the caller holds mu (or no batch is in
// flight).
func (w *writer) fail(where string, err error) {
	w.sum.Failed++
	fmt.Fprintf(w.opts.Errors, "%s: %v\n", where, err)
}

func (w *writer) add(ctx context.Context, chunk []decoded) error {
	for _, d := range chunk {
		switch {
		case d.err != nil:
			w.mu.Lock()
			w.fail(d.where, d.err)
			w.mu.Unlock()
		case d.collection != nil:
			if err := w.st.PutCollection(ctx, *d.collection, store.Upsert); err != nil {
				return fmt.Errorf("%s: %w", d.where, err)
			}
			w.mu.Lock()
			w.sum.Collections++
			w.mu.Unlock()
		default:
			w.batch = append(w.batch, *d.item)
			w.where = append(w.where, d.where)
			if len(w.batch) >= w.opts.BatchSize {
				w.flush(ctx)
			}
		}
		w.mu.Lock()
		err := w.err
		w.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// flush starts writing the current batch.
func (w *writer) flush(ctx context.Context) {
	if len(w.batch) == 0 {
		return
	}
	items, where := w.batch, w.where
	w.batch, w.where = make([]stac.Item, 0, w.opts.BatchSize), make([]string, 0, w.opts.BatchSize)
	w.mu.Lock()
	overlaps := false
	for _, it := range items {
		if w.keys[itemKey{it.Collection, it.ID}] > 0 {
			overlaps = true
			break
		}
	}
	w.mu.Unlock()
	if overlaps {
		w.inflight.Wait()
	}
	w.mu.Lock()
	for _, it := range items {
		w.keys[itemKey{it.Collection, it.ID}]++
	}
	seq := w.batches
	w.batches++
	w.mu.Unlock()
	w.slots <- struct{}{}
	w.inflight.Go(func() {
		defer func() { <-w.slots }()
		errs, err := w.st.PutItems(ctx, items, store.Upsert)
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, it := range items {
			k := itemKey{it.Collection, it.ID}
			if w.keys[k]--; w.keys[k] == 0 {
				delete(w.keys, k)
			}
		}
		if err != nil {
			if w.err == nil {
				w.err = fmt.Errorf("writing %d items: %w", len(items), err)
			}
			return
		}
		// Batches holding the same item are never in flight together, so
		// they end in the order they were read.
		for i, e := range errs {
			k := itemKey{items[i].Collection, items[i].ID}
			switch {
			case e == nil:
				w.sum.Items++
				if o, ok := w.orphans[k]; ok { // superseded by this copy
					w.sum.Items += 1 + o.earlier
					delete(w.orphans, k)
				}
			case errors.Is(e, store.ErrCollectionMissing) && items[i].Collection != "":
				o := orphan{batch: seq, index: i, decoded: decoded{where: where[i], item: &items[i]}}
				if prev, ok := w.orphans[k]; ok {
					o.earlier = 1 + prev.earlier
				}
				w.orphans[k] = o
			default:
				w.fail(where[i], e)
			}
		}
	})
}

// wait waits for the batches in flight and returns the first error.
func (w *writer) wait() error {
	w.inflight.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// retryOrphans writes items that came before their collection, in the
// order they were read (once every batch has been written).
func (w *writer) retryOrphans(ctx context.Context) error {
	orphans := slices.Collect(maps.Values(w.orphans))
	w.orphans = nil
	slices.SortFunc(orphans, func(a, b orphan) int { return cmp.Or(cmp.Compare(a.batch, b.batch), cmp.Compare(a.index, b.index)) })
	for start := 0; start < len(orphans); start += w.opts.BatchSize {
		chunk := orphans[start:min(start+w.opts.BatchSize, len(orphans))]
		items := make([]stac.Item, len(chunk))
		for i, d := range chunk {
			items[i] = *d.item
		}
		errs, err := w.st.PutItems(ctx, items, store.Upsert)
		if err != nil {
			return fmt.Errorf("writing %d items: %w", len(items), err)
		}
		for i, e := range errs {
			if e == nil {
				w.sum.Items += 1 + chunk[i].earlier
				continue
			}
			w.fail(chunk[i].where, e)
			w.sum.Failed += chunk[i].earlier
		}
	}
	return nil
}
