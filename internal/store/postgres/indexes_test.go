package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/cql2/cql2sql"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/postgres"
	"github.com/tessera-geo/tessera/internal/synth"
)

// TestPropertyIndexesServeFilters checks that the expression indexes of
// --index-property are what compiled filters compare: with sequential
// scans disabled, the plan of each filter reads an index.
func TestPropertyIndexesServeFilters(t *testing.T) {
	ctx := context.Background()
	dsn := freshDB(t)
	if err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	props := []store.IndexedProperty{{Name: "eo:cloud_cover", Kind: "number"}, {Name: "platform", Kind: "text"}}
	for range 2 { // idempotent
		if err := postgres.EnsureIndexes(ctx, dsn, props); err != nil {
			t.Fatal(err)
		}
	}
	if err := postgres.EnsureIndexes(ctx, dsn, []store.IndexedProperty{{Name: "x", Kind: "date"}}); err == nil {
		t.Error("an index of kind date was accepted")
	}
	explain := explainer(t, dsn)
	for _, f := range []string{`"eo:cloud_cover" < 10`, `"eo:cloud_cover" BETWEEN 10 AND 20`, `platform = 'sentinel-2a'`} {
		e, err := cql2.ParseText(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := cql2sql.Compile(e, &cql2sql.Postgres{Alias: "i", PropertiesOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if plan := explain(c.SQL, c.Args...); strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "Index") {
			t.Errorf("%s: the plan reads no property index:\n%s", f, plan)
		}
	}
}

// TestFreeTextUsesWordIndex checks that free-text conditions name the
// expression of the word index (collation included): with sequential scans
// disabled, each plan reads it.
func TestFreeTextUsesWordIndex(t *testing.T) {
	dsn := freshDB(t)
	if err := postgres.Migrate(context.Background(), dsn); err != nil {
		t.Fatal(err)
	}
	explain := explainer(t, dsn)
	for _, q := range []string{"sentinel", `"sentinel 2"`, "l2a,synthetic"} {
		cond, args, err := postgres.FreeTextSQL(q)
		if err != nil {
			t.Fatal(err)
		}
		// Partitions name their copies of the index after the expression.
		if plan := explain(cond, args...); strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "Index Cond: ((string_to_array(search_text") {
			t.Errorf("q=%s: the plan reads no word index:\n%s", q, plan)
		}
	}
}

// explainer writes 200 synthetic items into collection c of the migrated
// database at dsn and returns a function giving the plan of a condition
// over items aliased i, with sequential scans disabled.
func explainer(t *testing.T, dsn string) func(cond string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loadSynthetic(t, db, "c", 200)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	return func(cond string, args ...any) string {
		t.Helper()
		rows, err := conn.Query(ctx, "EXPLAIN SELECT i.id FROM items i WHERE "+cond, args...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
}

// loadSynthetic writes collection coll with n synthetic items.
func loadSynthetic(t *testing.T, db *postgres.DB, coll string, n int) {
	t.Helper()
	ctx := context.Background()
	g := synth.New(synth.Options{Collection: coll, Seed: 1})
	c, err := stac.DecodeCollection(g.Collection(), stac.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutCollection(ctx, c, store.Create); err != nil {
		t.Fatal(err)
	}
	items := make([]stac.Item, n)
	for i := range items {
		if items[i], err = stac.DecodeItem(g.Next(), stac.DecodeOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	errs, err := db.PutItems(ctx, items, store.Upsert)
	if err == nil {
		err = errors.Join(errs...)
	}
	if err != nil {
		t.Fatal(err)
	}
}
