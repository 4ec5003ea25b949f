package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store/postgres"
	"github.com/tessera-geo/tessera/internal/synth"
)

// TestBenchPgstac runs the benchmark's query mix side by side against
// tessera's store (tessera_bench_N, as TestBenchLoadSearch) and pgstac's
// search() function in the database TESSERA_PGSTAC (made by
// scripts/pgstac.sh), on the same N synthetic items (internal/synth, seed
// 1), each system on one connection, the two alternating query by query
// with the same parameters (up to TESSERA_PGSTAC_REQS, default 500, or
// TESSERA_PGSTAC_BUDGET, default 2m, per kind); it checks that both return
// the same ids (docs/benchmarks.md, "pgstac side by side").
//
//	eval "$(scripts/postgres.sh)"
//	eval "$(scripts/pgstac.sh bench/out/pgstac/pgstac--0.9.11.sql pgstac_bench_100000)"
//	TESSERA_PG_BENCH=100000 go test -run TestBenchPgstac -v -timeout 3h ./internal/store/postgres/
//
// pgstac is loaded through its SQL loading path: COPY of the items' JSON
// into items_staging_upsert (the staging table whose trigger dehydrates the
// items and upserts them; pypgstac dehydrates in Python instead), in
// batches of 5000 like tessera's load, into a collection with pgstac's
// default partitioning (partition_trunc NULL: one partition). eo:cloud_cover
// is registered as a number queryable (no index) so that pgstac sorts and
// compares it as a number.
func TestBenchPgstac(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TESSERA_PG_BENCH"))
	pgstacDSN := os.Getenv("TESSERA_PGSTAC")
	if n <= 0 || pgstacDSN == "" {
		t.Skip("set TESSERA_PG_BENCH=N and TESSERA_PGSTAC (scripts/pgstac.sh) to run the benchmark")
	}
	reqs := 500
	if r, _ := strconv.Atoi(os.Getenv("TESSERA_PGSTAC_REQS")); r > 0 {
		reqs = r
	}
	budget := 2 * time.Minute // per query kind
	if d, err := time.ParseDuration(os.Getenv("TESSERA_PGSTAC_BUDGET")); err == nil && d > 0 {
		budget = d
	}
	ctx := context.Background()
	db := benchDB(t, n, postgres.Options{MaxConns: 1})
	defer db.Close()
	cfg, err := pgx.ParseConfig(pgstacDSN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = "pgstac, public"
	pg, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	loadPgstac(t, pg, n)
	// Both freshly vacuumed (visibility maps) and analyzed.
	if _, err := db.Pool().Exec(ctx, "VACUUM (ANALYZE) items"); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Exec(ctx, "VACUUM (ANALYZE) items"); err != nil {
		t.Fatal(err)
	}

	run := func(bq benchQuery) ([]string, string, time.Duration) {
		t0 := time.Now()
		p, err := db.Search(ctx, bq.q)
		d := time.Since(t0)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(p.Items))
		for i, it := range p.Items {
			ids[i] = it.ID
		}
		return ids, p.Next, d
	}
	runPg := func(body map[string]any) ([]string, string, time.Duration) {
		body["limit"] = 10
		body["conf"] = map[string]any{"context": "off"}
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		var raw []byte
		t0 := time.Now()
		err = pg.QueryRow(ctx, "SELECT search($1::jsonb)", b).Scan(&raw)
		d := time.Since(t0)
		if err != nil {
			t.Fatalf("pgstac search(%s): %v", b, err)
		}
		var res struct {
			Features []struct {
				ID string `json:"id"`
			} `json:"features"`
			Links []struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"links"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(res.Features))
		for i, f := range res.Features {
			ids[i] = f.ID
		}
		next := ""
		for _, l := range res.Links {
			if _, tok, ok := strings.Cut(l.Href, "token="); ok && l.Rel == "next" {
				next = tok
			}
		}
		return ids, next, d
	}

	fmt.Printf("\nload average before the queries: %s", loadavg())
	fmt.Printf("\n| query (1 connection each, alternating; up to %d queries or %s per kind) | queries | tessera p50 | p95 | p99 | pgstac search() p50 | p95 | p99 | same ids |\n|---|---|---|---|---|---|---|---|---|\n", reqs, budget)
	for _, m := range benchMix(sampleIDs(t, db)) {
		var lt, lp []time.Duration
		same, empty := 0, 0
		start := time.Now()
		for i := 0; i < reqs && time.Since(start) < budget; i++ {
			bq := m.next()
			var ti, pi []string
			var dt, dp time.Duration
			if i%2 == 0 {
				ti, _, dt = run(bq)
				pi, _, dp = runPg(bq.pg)
			} else {
				pi, _, dp = runPg(bq.pg)
				ti, _, dt = run(bq)
			}
			lt, lp = append(lt, dt), append(lp, dp)
			if slices.Equal(ti, pi) {
				same++
			} else if len(lt)-same <= 3 {
				t.Logf("%s: query %d: tessera %v, pgstac %v", m.name, i, ti, pi)
			}
			if len(ti) == 0 {
				empty++
			}
		}
		fmt.Printf("| %s | %d | %s | %s | %d/%d (%d empty) |\n", m.name, len(lt), pcts3(lt), pcts3(lp), same, len(lt), empty)
	}

	// Deep pagination: each system follows its own next token, 1000 pages
	// of 10, alternating page by page.
	q := benchQuery{search.Query{Limit: 10, Collections: []string{benchColl}}, nil}
	tok := ""
	var lt, lp []time.Duration
	same := 0
	for i := range 1000 {
		body := map[string]any{"collections": []string{benchColl}}
		if tok != "" {
			body["token"] = tok
		}
		var ti, pi []string
		var tnext, pnext string
		var dt, dp time.Duration
		if i%2 == 0 {
			ti, tnext, dt = run(q)
			pi, pnext, dp = runPg(body)
		} else {
			pi, pnext, dp = runPg(body)
			ti, tnext, dt = run(q)
		}
		lt, lp = append(lt, dt), append(lp, dp)
		if slices.Equal(ti, pi) {
			same++
		} else if i-same < 3 {
			t.Logf("page %d: tessera %v, pgstac %v", i+1, ti, pi)
		}
		q.q.Token, tok = tnext, pnext
		if tnext == "" || pnext == "" {
			break
		}
	}
	last := func(l []time.Duration) string {
		return fmt.Sprintf("%.2f ms", float64(l[len(l)-1].Microseconds())/1000)
	}
	fmt.Printf("| next page, 1000 pages deep (limit 10; page 1000: tessera %s, pgstac %s) | %d | %s | %s | %d/%d |\n",
		last(lt), last(lp), len(lt), pcts3(lt), pcts3(lp), same, len(lt))
	fmt.Printf("\nload average after the queries: %s\n", loadavg())
}

// loadPgstac loads the benchmark's items into pgstac (see TestBenchPgstac)
// unless it holds about n of them already, printing the load figures.
func loadPgstac(t *testing.T, pg *pgx.Conn, n int) {
	t.Helper()
	ctx := context.Background()
	var have int
	if err := pg.QueryRow(ctx, `SELECT coalesce(sum(c.reltuples), 0)::bigint FROM pg_partition_tree('items') p
		JOIN pg_class c ON c.oid = p.relid WHERE p.isleaf`).Scan(&have); err != nil {
		t.Fatal(err)
	}
	t.Logf("pgstac holds about %d items", have)
	if have >= n*99/100 && have <= n*101/100 {
		return
	}
	g := synth.New(synth.Options{Collection: benchColl, Seed: 1})
	for _, q := range []string{
		`DELETE FROM collections WHERE id = '` + benchColl + `'`,
		`DELETE FROM queryables WHERE name = 'eo:cloud_cover'`,
		`INSERT INTO queryables (name, definition, property_wrapper) VALUES ('eo:cloud_cover', '{"type": "number"}', 'to_float')`,
	} {
		if _, err := pg.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := pg.Exec(ctx, `SELECT create_collection($1::jsonb)`, g.Collection()); err != nil {
		t.Fatal(err)
	}
	// TESSERA_PGSTAC_LOAD=direct: the staging trigger's steps with pgstac's
	// own functions, but content_dehydrate evaluated once per item (the
	// trigger's (content_dehydrate(content)).* evaluates it once per column,
	// 7 times).
	direct := os.Getenv("TESSERA_PGSTAC_LOAD") == "direct"
	how := "COPY into items_staging_upsert"
	directSQL := []string{
		`CREATE TEMP TABLE bench_rows ON COMMIT DROP AS
			SELECT (d).* FROM (SELECT content_dehydrate(content) AS d FROM bench_batch OFFSET 0) s`,
		`ANALYZE bench_rows`,
		`SELECT check_partition(collection, tstzrange(min(datetime), max(datetime), '[]'),
			tstzrange(min(end_datetime), max(end_datetime), '[]')) FROM bench_rows GROUP BY collection`,
		`DELETE FROM items i USING bench_rows r WHERE i.id = r.id AND i.collection = r.collection`,
		`INSERT INTO items SELECT * FROM bench_rows`,
	}
	if direct {
		how = "COPY + content_dehydrate once per item + INSERT into items"
		if _, err := pg.Exec(ctx, `CREATE TEMP TABLE bench_batch (content jsonb) ON COMMIT DELETE ROWS`); err != nil {
			t.Fatal(err)
		}
	}
	const batchSize = 5000
	var inCopy time.Duration
	start := time.Now()
	for done := 0; done < n; done += batchSize {
		// Within a batch the last of equal ids wins, as in PutItems; the
		// upsert staging table makes later batches win over earlier ones.
		var rows [][]any
		at := map[string]int{}
		for range min(batchSize, n-done) {
			doc := g.Next()
			var it struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(doc, &it); err != nil {
				t.Fatal(err)
			}
			if i, ok := at[it.ID]; ok {
				rows[i] = []any{doc}
				continue
			}
			at[it.ID] = len(rows)
			rows = append(rows, []any{doc})
		}
		t0 := time.Now()
		if direct {
			if err := pgx.BeginFunc(ctx, pg, func(tx pgx.Tx) error {
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_batch"}, []string{"content"}, pgx.CopyFromRows(rows)); err != nil {
					return err
				}
				for _, q := range directSQL {
					if _, err := tx.Exec(ctx, q); err != nil {
						return fmt.Errorf("%s: %w", q, err)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		} else {
			if _, err := pg.CopyFrom(ctx, pgx.Identifier{"items_staging_upsert"}, []string{"content"}, pgx.CopyFromRows(rows)); err != nil {
				t.Fatal(err)
			}
			// pgstac 0.9.11's staging trigger empties items_staging only.
			if _, err := pg.Exec(ctx, "TRUNCATE items_staging_upsert"); err != nil {
				t.Fatal(err)
			}
		}
		inCopy += time.Since(t0)
		if (done+batchSize)%100000 == 0 {
			t.Logf("pgstac: %d items, %.0f items/s in the database", done+batchSize, float64(done+batchSize)/inCopy.Seconds())
		}
	}
	wall := time.Since(start)
	var size string
	pg.QueryRow(ctx, `SELECT pg_size_pretty(pg_database_size(current_database()))`).Scan(&size)
	fmt.Printf("| pgstac: load %d items (%s, batches of 5000) | %.0f items/s in the database (%.1f s) | %.0f items/s wall, with generating (%.1f s) | database size %s |\n",
		n, how, float64(n)/inCopy.Seconds(), inCopy.Seconds(), float64(n)/wall.Seconds(), wall.Seconds(), size)
}

func pcts3(lat []time.Duration) string {
	lat = slices.Clone(lat)
	slices.Sort(lat)
	p := func(pc int) string {
		d := lat[min(len(lat)-1, len(lat)*pc/100)]
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	}
	return p(50) + " | " + p(95) + " | " + p(99)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
