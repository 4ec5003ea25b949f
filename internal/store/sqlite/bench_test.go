package sqlite_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
	"github.com/tessera-geo/tessera/internal/synth"
)

func BenchmarkPutItems(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	g := synth.New(synth.Options{Seed: 1})
	c, _ := stac.DecodeCollection(g.Collection(), stac.DecodeOptions{})
	if err := db.PutCollection(ctx, c, store.Upsert); err != nil {
		b.Fatal(err)
	}
	const batch = 5000
	items := make([]stac.Item, 0, batch)
	for range batch * 4 {
		it, err := stac.DecodeItem(g.Next(), stac.DecodeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		items = append(items, it)
	}
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		chunk := items[(i%4)*batch : (i%4+1)*batch]
		if _, err := db.PutItems(ctx, chunk, store.Upsert); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkSearchBBoxDatetime runs the harness's bbox + datetime +
// collection query (a random 4° box and 3 months, limit 10) through
// Search on the catalog at $TESSERA_BENCH_CATALOG (a catalog.db, e.g. the
// 1M one bench/catalog builds in bench/out/catalog-1000000), in process,
// and reports the latency percentiles.
func BenchmarkSearchBBoxDatetime(b *testing.B) {
	path := os.Getenv("TESSERA_BENCH_CATALOG")
	if path == "" {
		b.Skip("TESSERA_BENCH_CATALOG names no catalog.db")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(1, 42))
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		x, y := -170+r.Float64()*330, -50+r.Float64()*110
		t0 := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, r.IntN(100), 0)
		t1 := t0.AddDate(0, 3, 0)
		q := search.Query{Collections: []string{"sentinel-2-synthetic"}, BBox: &geo.BBox{MinX: x, MinY: y, MaxX: x + 4, MaxY: y + 4},
			Datetime: &search.Interval{Start: &t0, End: &t1}, Limit: 10}
		s := time.Now()
		if _, err := db.Search(ctx, q); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(s))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
