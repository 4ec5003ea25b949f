package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/postgres"
	"github.com/tessera-geo/tessera/internal/store/storetest"
)

// testDSN is the server the tests use: TESSERA_TEST_POSTGRES, which
// scripts/test.sh sets after scripts/postgres.sh has started a server. In
// CI a missing server fails the tests; elsewhere it skips them.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("TESSERA_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TESSERA_TEST_POSTGRES is not set: run the tests with scripts/test.sh, or eval \"$(scripts/postgres.sh)\" first")
		}
		t.Skip("TESSERA_TEST_POSTGRES is not set (eval \"$(scripts/postgres.sh)\" starts a server)")
	}
	return dsn
}

// freshDB creates an empty database for one test, from the template with
// PostGIS that scripts/postgres.sh makes (or template1, where the
// migration's CREATE EXTENSION then needs a superuser), and drops it when
// the test ends. It returns the new database's DSN.
func freshDB(t testing.TB) string {
	t.Helper()
	dsn := testDSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to TESSERA_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "tessera_test_" + hex.EncodeToString(b)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE tessera_template")
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "3D000" { // no such template
		_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	}
	if err != nil {
		t.Fatalf("create a test database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return withDatabase(t, dsn, name)
}

// withDatabase returns dsn naming another database.
func withDatabase(t testing.TB, dsn, name string) string {
	t.Helper()
	if !strings.Contains(dsn, "://") {
		return dsn + " dbname=" + name
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// newStore migrates a fresh database and opens it.
func newStore(t testing.TB) *postgres.DB {
	t.Helper()
	dsn := freshDB(t)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
}

func TestOpenRefusesUnmigratedSchema(t *testing.T) {
	dsn := freshDB(t)
	_, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err == nil || !strings.Contains(err.Error(), `run "tessera migrate --store URL"`) {
		t.Fatalf("Open on an empty database: %v, want an error naming tessera migrate", err)
	}
}

// TestMigrateConcurrently runs migrations from several processes' worth of
// connections at once, then again: the advisory lock serialises them and
// they are idempotent.
func TestMigrateConcurrently(t *testing.T) {
	dsn := freshDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = postgres.Migrate(ctx, dsn)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM tessera_schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != postgres.SchemaVersion() {
		t.Fatalf("%d migrations recorded, want %d", n, postgres.SchemaVersion())
	}
}

// TestReadDSN sends reads to a second pool (here: the same database, as a
// replica would be) and writes to the primary.
func TestReadDSN(t *testing.T) {
	dsn := freshDB(t)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{ReadDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PutCollection(ctx, storetest.Collection(t, "c"), store.Create); err != nil {
		t.Fatal(err)
	}
	it := storetest.Item(t, storetest.ItemSpec{Collection: "c", ID: "a", X: 1, Y: 1, Datetime: ptr(time.Now())})
	if errs, err := db.PutItems(ctx, []stac.Item{it}, store.Upsert); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	page, err := db.Search(ctx, search.Query{Limit: 10, Collections: []string{"c"}})
	if err != nil || len(page.Items) != 1 || string(page.Items[0].Doc) != string(it.Doc) {
		t.Fatalf("search through the read pool: %+v, %v", page, err)
	}
	if _, err := postgres.Open(ctx, dsn, postgres.Options{ReadDSN: withDatabase(t, dsn, "tessera_no_such_db")}); err == nil {
		t.Fatal("Open with an unreachable read database succeeded")
	}
}

// TestBackfill: items whose version-2 columns are empty (written before
// the migration) keep Open from running until Migrate has filled them in
// from the documents; then free text, grids and queryables see them.
func TestBackfill(t *testing.T) {
	dsn := freshDB(t)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutCollection(ctx, storetest.Collection(t, "c"), store.Create); err != nil {
		t.Fatal(err)
	}
	var items []stac.Item
	for i := range 2500 {
		items = append(items, storetest.Item(t, storetest.ItemSpec{Collection: "c", ID: fmt.Sprintf("it-%04d", i), X: float64(i % 90), Y: 1,
			Datetime: ptr(time.Now()), Props: map[string]any{"title": fmt.Sprintf("Flood número %d", i%3)}}))
	}
	if errs, err := db.PutItems(ctx, items, store.Upsert); err != nil || errs[0] != nil {
		t.Fatal(err, errs[0])
	}
	q, _ := search.ParseFreeText(`"flood numero 1"`)
	count := func() int {
		n := 0
		for tok := ""; ; {
			page, err := db.Search(ctx, search.Query{Q: q, Limit: 1000, Token: tok})
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Items)
			if tok = page.Next; tok == "" {
				return n
			}
		}
	}
	if n := count(); n != 833 {
		t.Fatalf("free text before: %d items, want 833", n)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE items SET search_text = NULL, bbox_cx = NULL, bbox_cy = NULL;
		UPDATE tessera_meta SET value = 0 WHERE key = 'backfill_v2'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := postgres.Open(ctx, dsn, postgres.Options{}); err == nil || !strings.Contains(err.Error(), "tessera migrate") {
		t.Fatalf("Open before the backfill: %v, want an error naming tessera migrate", err)
	}
	if err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	if db, err = postgres.Open(ctx, dsn, postgres.Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := count(); n != 833 {
		t.Fatalf("free text after the backfill: %d items, want 833", n)
	}
	var nulls int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM items WHERE search_text IS NULL OR bbox_cx IS NULL`).Scan(&nulls); err != nil || nulls != 0 {
		t.Fatalf("%d rows left without the new columns (%v)", nulls, err)
	}
}

// TestFilterTopLevelMembers: content holds only the properties, so filters
// on id, collection and geometry as JSON values read the columns.
func TestFilterTopLevelMembers(t *testing.T) {
	db := newStore(t)
	defer db.Close()
	ctx := context.Background()
	if err := db.PutCollection(ctx, storetest.Collection(t, "c"), store.Create); err != nil {
		t.Fatal(err)
	}
	it := storetest.Item(t, storetest.ItemSpec{Collection: "c", ID: "2020-01-01T00:00:00Z", X: 1, Y: 1, Datetime: ptr(time.Now())})
	if errs, err := db.PutItems(ctx, []stac.Item{it}, store.Upsert); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	var doc map[string]any
	if err := json.Unmarshal(it.Doc, &doc); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		`geometry IS NULL`, `NOT geometry IS NULL`, `id IS NULL`, `collection IS NOT NULL`,
		`id = TIMESTAMP('2020-01-01T00:00:00Z')`, `A_CONTAINS(geometry, ('x'))`, `geometry = 'x'`,
	} {
		e, err := cql2.ParseText(text)
		if err != nil {
			t.Fatal(err)
		}
		want, err := cql2.Evaluate(e, doc)
		if err != nil {
			t.Fatal(err)
		}
		page, err := db.Search(ctx, search.Query{Filter: e, Limit: 10})
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if got := len(page.Items) == 1; got != want {
			t.Errorf("%s: store %v, evaluator %v", text, got, want)
		}
	}
}
