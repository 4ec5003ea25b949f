package loader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// Options tune a load.
type Options struct {
	BatchSize int // items per transaction (default 5000)
	Workers   int // decoding goroutines (default GOMAXPROCS)
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

	w := writer{st: st, opts: opts}
	for chunk := range out {
		if err := w.add(ctx, chunk); err != nil {
			cancel()
			return w.sum, err
		}
	}
	if err := w.flush(ctx); err != nil {
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

// writer batches items and writes collections as they come.
type writer struct {
	st      store.Writer
	opts    Options
	batch   []stac.Item
	where   []string
	orphans []decoded // items whose collection was missing: retried at the end
	sum     Summary
}

func (w *writer) fail(where string, err error) {
	w.sum.Failed++
	fmt.Fprintf(w.opts.Errors, "%s: %v\n", where, err)
}

func (w *writer) add(ctx context.Context, chunk []decoded) error {
	for _, d := range chunk {
		switch {
		case d.err != nil:
			w.fail(d.where, d.err)
		case d.collection != nil:
			if err := w.st.PutCollection(ctx, *d.collection, store.Upsert); err != nil {
				return fmt.Errorf("%s: %w", d.where, err)
			}
			w.sum.Collections++
		default:
			w.batch = append(w.batch, *d.item)
			w.where = append(w.where, d.where)
			if len(w.batch) >= w.opts.BatchSize {
				if err := w.flush(ctx); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (w *writer) flush(ctx context.Context) error {
	if len(w.batch) == 0 {
		return nil
	}
	errs, err := w.st.PutItems(ctx, w.batch, store.Upsert)
	if err != nil {
		return fmt.Errorf("writing %d items: %w", len(w.batch), err)
	}
	for i, e := range errs {
		switch {
		case e == nil:
			w.sum.Items++
		case errors.Is(e, store.ErrCollectionMissing) && w.batch[i].Collection != "":
			it := w.batch[i]
			w.orphans = append(w.orphans, decoded{where: w.where[i], item: &it})
		default:
			w.fail(w.where[i], e)
		}
	}
	w.batch, w.where = w.batch[:0], w.where[:0]
	return nil
}

// retryOrphans writes items that came before their collection.
func (w *writer) retryOrphans(ctx context.Context) error {
	orphans := w.orphans
	w.orphans = nil
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
				w.sum.Items++
			} else {
				w.fail(chunk[i].where, e)
			}
		}
	}
	return nil
}
