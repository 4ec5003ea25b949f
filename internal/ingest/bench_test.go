package ingest_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/ingest"
	natsq "github.com/tessera-geo/tessera/internal/queue/nats"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
	"github.com/tessera-geo/tessera/internal/synth"
)

// BenchmarkIngestEndToEnd publishes TESSERA_BENCH_ITEMS (default 50,000)
// synthetic items to the embedded queue while the worker ingests them
// into SQLite, and measures publish → stored → notified: the rate over
// the whole run and the notification latency (from publication). With
// TESSERA_BENCH_RATE the items are published at that rate instead of as
// fast as possible (latency at a sustainable load).
func BenchmarkIngestEndToEnd(b *testing.B) {
	n := 50_000
	if s := os.Getenv("TESSERA_BENCH_ITEMS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	g := synth.New(synth.Options{Seed: 3})
	coll := g.Collection()
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = g.Next()
	}
	ids := make([]string, n)
	for i, d := range docs {
		var head struct{ ID string }
		_ = json.Unmarshal(d, &head)
		ids[i] = head.ID
	}
	opts := ingest.Options{Notify: true}
	if s := os.Getenv("TESSERA_BENCH_BATCH"); s != "" {
		opts.BatchSize, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("TESSERA_BENCH_WORKERS"); s != "" {
		opts.Workers, _ = strconv.Atoi(s)
	}
	var rate float64 // TESSERA_BENCH_RATE items/s; 0 publishes as fast as the queue takes them
	if s := os.Getenv("TESSERA_BENCH_RATE"); s != "" {
		rate, _ = strconv.ParseFloat(s, 64)
	}
	// TESSERA_BENCH_PRELOAD=1 publishes everything before the worker
	// starts and times the ingest alone (latencies then include the wait).
	preload := os.Getenv("TESSERA_BENCH_PRELOAD") != ""
	var rates, p50s, p99s []float64
	for b.Loop() {
		ctx := context.Background()
		dir := b.TempDir()
		q, err := natsq.Open(ctx, natsq.Options{Dir: filepath.Join(dir, "queue")})
		if err != nil {
			b.Fatal(err)
		}
		st, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := q.Publish(ctx, coll); err != nil {
			b.Fatal(err)
		}
		// Notifications, by item id.
		sent := make(map[string]time.Time, n)
		var mu sync.Mutex
		notes := subscribe(b, q.URL())
		deps := ingest.Deps{Queue: q, Store: st}
		if os.Getenv("TESSERA_BENCH_DEBUG") != "" {
			deps.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		w := ingest.New(deps, opts)
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		publish := func() {
			chunk := 1000
			var tick *time.Ticker
			if rate > 0 { // paced: chunks of 100 at the given items/s
				chunk = 100
				tick = time.NewTicker(time.Duration(float64(time.Second) * float64(chunk) / rate))
				defer tick.Stop()
			}
			for i := 0; i < n; i += chunk {
				if tick != nil {
					<-tick.C
				}
				j := min(i+chunk, n)
				now := time.Now()
				mu.Lock()
				for _, id := range ids[i:j] {
					sent[id] = now
				}
				mu.Unlock()
				if err := q.Publish(ctx, docs[i:j]...); err != nil {
					b.Error(err)
					return
				}
			}
		}
		var start time.Time
		if preload {
			publish()
			start = time.Now()
			wg.Go(func() { w.Run(wctx) })
		} else {
			wg.Go(func() { w.Run(wctx) })
			start = time.Now()
			go publish()
		}
		lat := make([]float64, 0, n)
		timeout := time.After(10 * time.Minute)
		for len(lat) < n {
			select {
			case m := <-notes:
				if m.Header.Get(ingest.AttrRecordType) != "Item" {
					continue
				}
				if m.Header.Get(ingest.AttrIngestStatus) != "successful" {
					b.Fatalf("failed: %s", m.Data)
				}
				mu.Lock()
				t0 := sent[m.Header.Get(ingest.AttrID)]
				mu.Unlock()
				lat = append(lat, time.Since(t0).Seconds())
			case <-timeout:
				b.Fatalf("only %d of %d notified", len(lat), n)
			}
		}
		el := time.Since(start)
		stop()
		wg.Wait()
		st.Close()
		q.Close()
		slices.Sort(lat)
		rates = append(rates, float64(n)/el.Seconds())
		p50s = append(p50s, lat[len(lat)/2])
		p99s = append(p99s, lat[len(lat)*99/100])
	}
	b.ReportMetric(mean(rates), "items/s")
	b.ReportMetric(mean(p50s)*1000, "p50-ms")
	b.ReportMetric(mean(p99s)*1000, "p99-ms")
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
