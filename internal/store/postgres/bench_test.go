package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/postgres"
	"github.com/tessera-geo/tessera/internal/synth"
)

// TestBenchLoadSearch is the PostgreSQL store's benchmark (docs/benchmarks.md):
// it loads TESSERA_PG_BENCH synthetic items (internal/synth, batches of
// 5000 through PutItems) into the database tessera_bench_N next to
// TESSERA_TEST_POSTGRES (kept between runs; reloaded when its item count
// differs), then times the catalog benchmark's query mix at the store level.
//
//	eval "$(scripts/postgres.sh)"
//	TESSERA_PG_BENCH=1000000 go test -run TestBenchLoadSearch -v -timeout 3h ./internal/store/postgres/
func TestBenchLoadSearch(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TESSERA_PG_BENCH"))
	if n <= 0 {
		t.Skip("set TESSERA_PG_BENCH=N to run the benchmark")
	}
	ctx := context.Background()
	db := benchDB(t, n, postgres.Options{})
	defer db.Close()
	ids := sampleIDs(t, db)

	// The query mix of bench/catalog, at the store level.
	const reqs = 2000
	fmt.Printf("\n| query (store.Search, 1 client, %d queries) | p50 | p95 | p99 | max |\n|---|---|---|---|---|\n", reqs)
	for _, m := range benchMix(ids) {
		lat := make([]time.Duration, 0, reqs)
		for range reqs {
			q := m.next().q
			t0 := time.Now()
			if _, err := db.Search(ctx, q); err != nil {
				t.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		fmt.Printf("| %s | %s |\n", m.name, pcts(lat))
	}
	// Deep pagination: 1000 pages of 10.
	var lat []time.Duration
	q := search.Query{Limit: 10, Collections: []string{benchColl}}
	for range 1000 {
		t0 := time.Now()
		p, err := db.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		if q.Token = p.Next; q.Token == "" {
			break
		}
	}
	fmt.Printf("| next page, 1000 pages deep (limit 10) | %s |\n", pcts(lat))
}

// benchColl is the benchmark's collection (internal/synth, seed 1).
const benchColl = "sentinel-2-synthetic"

// benchDB opens the benchmark database tessera_bench_N next to
// TESSERA_TEST_POSTGRES, creating it and loading N synthetic items when it
// does not hold them (printing the load figures), then ANALYZE.
func benchDB(t *testing.T, n int, opts postgres.Options) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	base := testDSN(t)
	name := fmt.Sprintf("tessera_bench_%d", n)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE tessera_template")
	var pe *pgconn.PgError
	if err != nil && !(errors.As(err, &pe) && pe.Code == "42P04") { // exists
		t.Fatal(err)
	}
	conn.Close(ctx)
	dsn := withDatabase(t, base, name)
	if err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, dsn, opts)
	if err != nil {
		t.Fatal(err)
	}

	const coll = benchColl
	g := synth.New(synth.Options{Collection: coll, Seed: 1})
	var have int
	// The planner's row count (exact after the ANALYZE below): count(*)
	// reads the whole table.
	if err := db.Pool().QueryRow(ctx, `SELECT coalesce(sum(c.reltuples), 0)::bigint FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'items'::regclass`).Scan(&have); err != nil {
		t.Logf("count items: %v", err)
	}
	t.Logf("the database holds about %d items", have)
	if have < n*99/100 || have > n*101/100 {
		if err := db.DeleteCollection(ctx, coll); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		c, err := stac.DecodeCollection(g.Collection(), stac.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.PutCollection(ctx, c, store.Create); err != nil {
			t.Fatal(err)
		}
		// Decode the next batch while the previous one is written.
		const batchSize = 5000
		batches := make(chan []stac.Item, 2)
		go func() {
			defer close(batches)
			for done := 0; done < n; done += batchSize {
				b := make([]stac.Item, 0, batchSize)
				for range min(batchSize, n-done) {
					it, err := stac.DecodeItem(g.Next(), stac.DecodeOptions{})
					if err != nil {
						panic(err)
					}
					b = append(b, it)
				}
				batches <- b
			}
		}()
		var inPut time.Duration
		var perBatch []time.Duration
		start := time.Now()
		loaded := 0
		for b := range batches {
			t0 := time.Now()
			errs, err := db.PutItems(ctx, b, store.Upsert)
			inPut += time.Since(t0)
			perBatch = append(perBatch, time.Since(t0)/time.Duration(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			loaded += len(b)
			if loaded%100000 == 0 {
				t.Logf("%d items, %.0f items/s in PutItems", loaded, float64(loaded)/inPut.Seconds())
			}
		}
		wall := time.Since(start)
		t0 := time.Now()
		if _, err := db.Pool().Exec(ctx, "ANALYZE items"); err != nil {
			t.Fatal(err)
		}
		slices.Sort(perBatch)
		fmt.Printf("| load %d items (batches of 5000, Upsert) | %.0f items/s in PutItems (%.1f s; median batch %.0f items/s, best %.0f) | %.0f items/s wall, with decoding (%.1f s) | ANALYZE %.1f s |\n",
			n, float64(n)/inPut.Seconds(), inPut.Seconds(), 1/perBatch[len(perBatch)/2].Seconds(), 1/perBatch[0].Seconds(),
			float64(n)/wall.Seconds(), wall.Seconds(), time.Since(t0).Seconds())
	}
	var size string
	db.Pool().QueryRow(ctx, `SELECT pg_size_pretty(pg_database_size(current_database()))`).Scan(&size)
	fmt.Printf("| database size | %s |\n", size)
	return db
}

// sampleIDs returns up to 500 ids of the benchmark database, for the ids
// and free-text queries.
func sampleIDs(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	// REPEATABLE: the same sample on every run over the same data.
	rows, _ := db.Pool().Query(context.Background(), `SELECT id FROM items TABLESAMPLE SYSTEM (1) REPEATABLE (1) LIMIT 500`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == 0 {
		t.Fatalf("sample ids: %v", err)
	}
	return ids
}

// benchQuery is one query of the mix, as a store query and as the body of
// the same search for pgstac's search() (pgstac side by side).
type benchQuery struct {
	q  search.Query
	pg map[string]any
}

// benchMix is the query mix of bench/catalog, each kind drawing its
// parameters from its own deterministic sequence.
func benchMix(ids []string) []struct {
	name string
	next func() benchQuery
} {
	const coll = benchColl
	rng := rand.New(rand.NewPCG(7, 7))
	cloudy, _ := cql2.ParseText(`"eo:cloud_cover" < 10 AND platform = 'sentinel-2a'`)
	cloudyJSON := map[string]any{"op": "and", "args": []any{
		map[string]any{"op": "<", "args": []any{map[string]any{"property": "eo:cloud_cover"}, 10}},
		map[string]any{"op": "=", "args": []any{map[string]any{"property": "platform"}, "sentinel-2a"}},
	}}
	accent, _ := cql2.ParseText(`ACCENTI(platform) = accenti('sentinel-2b')`)
	accentJSON := map[string]any{"op": "=", "args": []any{
		map[string]any{"op": "accenti", "args": []any{map[string]any{"property": "platform"}}},
		map[string]any{"op": "accenti", "args": []any{"sentinel-2b"}},
	}}
	s2a, _ := search.ParseFreeText("s2a")
	box := func(b geo.BBox) []float64 { return []float64{b.MinX, b.MinY, b.MaxX, b.MaxY} }
	return []struct {
		name string
		next func() benchQuery
	}{
		{"bbox (4°×4°) + datetime (3 months) + collection, limit 10", func() benchQuery {
			x, y := -170+rng.Float64()*330, -50+rng.Float64()*110
			t0 := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, rng.IntN(100), 0)
			t1 := t0.AddDate(0, 3, 0)
			b := geo.BBox{MinX: x, MinY: y, MaxX: x + 4, MaxY: y + 4}
			return benchQuery{
				search.Query{Limit: 10, Collections: []string{coll}, BBox: &b, Datetime: &search.Interval{Start: &t0, End: &t1}},
				map[string]any{"collections": []string{coll}, "bbox": box(b), "datetime": t0.Format(time.RFC3339) + "/" + t1.Format(time.RFC3339)},
			}
		}},
		{"ids (5), limit 10", func() benchQuery {
			q := search.Query{Limit: 10}
			for range 5 {
				q.IDs = append(q.IDs, ids[rng.IntN(len(ids))])
			}
			return benchQuery{q, map[string]any{"ids": q.IDs}}
		}},
		{"intersects polygon (6° triangle), limit 10", func() benchQuery {
			// Rounded as the WKT prints them, so that pgstac gets the same polygon.
			x, y := round6(-170+rng.Float64()*330), round6(-50+rng.Float64()*110)
			p, _ := geom.UnmarshalWKT(fmt.Sprintf("POLYGON((%[1]f %[2]f,%[3]f %[2]f,%[1]f %[4]f,%[1]f %[2]f))", x, y, x+6, y+6))
			return benchQuery{search.Query{Limit: 10, Intersects: &p}, map[string]any{"intersects": p}}
		}},
		{"whole catalog, limit 10 (first page)", func() benchQuery {
			return benchQuery{search.Query{Limit: 10}, map[string]any{}}
		}},
		{"continental bbox, limit 10", func() benchQuery {
			b := geo.BBox{MinX: -10, MinY: 35, MaxX: 30, MaxY: 60}
			return benchQuery{search.Query{Limit: 10, BBox: &b}, map[string]any{"bbox": box(b)}}
		}},
		{`filter "eo:cloud_cover" < 10 AND platform = 'sentinel-2a' + bbox (10°×10°), limit 10`, func() benchQuery {
			x, y := -170+rng.Float64()*330, -50+rng.Float64()*110
			b := geo.BBox{MinX: x, MinY: y, MaxX: x + 10, MaxY: y + 10}
			return benchQuery{search.Query{Limit: 10, Filter: cloudy, BBox: &b},
				map[string]any{"filter": cloudyJSON, "filter-lang": "cql2-json", "bbox": box(b)}}
		}},
		{`filter ACCENTI(platform) = accenti('sentinel-2b') (residual) + bbox (10°×10°), limit 10`, func() benchQuery {
			x, y := -170+rng.Float64()*330, -50+rng.Float64()*110
			b := geo.BBox{MinX: x, MinY: y, MaxX: x + 10, MaxY: y + 10}
			return benchQuery{search.Query{Limit: 10, Filter: accent, BBox: &b},
				map[string]any{"filter": accentJSON, "filter-lang": "cql2-json", "bbox": box(b)}}
		}},
		{"sortby +eo:cloud_cover + bbox (10°×10°), limit 10", func() benchQuery {
			x, y := -170+rng.Float64()*330, -50+rng.Float64()*110
			b := geo.BBox{MinX: x, MinY: y, MaxX: x + 10, MaxY: y + 10}
			// Ties: tessera breaks them by id in the direction of the last
			// field; pgstac by id descending unless told.
			return benchQuery{search.Query{Limit: 10, SortBy: []search.SortField{{Field: "eo:cloud_cover"}}, BBox: &b},
				map[string]any{"bbox": box(b), "sortby": []any{
					map[string]any{"field": "eo:cloud_cover", "direction": "asc"}, map[string]any{"field": "id", "direction": "asc"}}}}
		}},
		{"free text q=<an item's tile> (rare word), limit 10", func() benchQuery {
			w := search.Words(ids[rng.IntN(len(ids))])
			f, _ := search.ParseFreeText(w[1])
			return benchQuery{search.Query{Limit: 10, Q: f}, map[string]any{"q": w[1]}}
		}},
		{"free text q=s2a (half the items), limit 10", func() benchQuery {
			return benchQuery{search.Query{Limit: 10, Q: s2a}, map[string]any{"q": "s2a"}}
		}},
	}
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func pcts(lat []time.Duration) string {
	slices.Sort(lat)
	p := func(pc int) string {
		d := lat[min(len(lat)-1, len(lat)*pc/100)]
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	}
	return p(50) + " | " + p(95) + " | " + p(99) + " | " + p(100)
}
