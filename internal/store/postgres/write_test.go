package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/storetest"
)

// TestCopyRaceFallsBackToUpsert writes an item that another transaction
// inserts, uncommitted, after PutItems has found it absent: the direct
// COPY waits for that transaction, fails on the duplicate key, and the
// batch is upserted instead. Both modes end with PutItems' copy (Upsert)
// or a conflict (Create), and nothing else in the batch is lost.
func TestCopyRaceFallsBackToUpsert(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		mode store.WriteMode
	}{{"upsert", store.Upsert}, {"create", store.Create}} {
		mode := tc.mode
		db := newStore(t)
		if err := db.PutCollection(ctx, storetest.Collection(t, "c"), store.Create); err != nil {
			t.Fatal(err)
		}
		seed := storetest.Item(t, storetest.ItemSpec{Collection: "c", ID: "seed", Datetime: ptr(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))})
		if _, err := db.PutItems(ctx, []stac.Item{seed}, store.Upsert); err != nil {
			t.Fatal(err)
		}
		// Another writer inserts x (a copy of seed) and holds its transaction.
		other, err := db.Pool().Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Exec(ctx, `INSERT INTO items (collection, id, datetime, start_datetime, end_datetime, geometry,
			content, doc, search_text, bbox_cx, bbox_cy)
			SELECT collection, 'x', datetime, start_datetime, end_datetime, geometry, content, doc, search_text, bbox_cx, bbox_cy
			FROM items WHERE id = 'seed'`); err != nil {
			t.Fatal(err)
		}
		x := storetest.Item(t, storetest.ItemSpec{Collection: "c", ID: "x", Datetime: ptr(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)),
			Props: map[string]any{"title": "mine"}})
		y := storetest.Item(t, storetest.ItemSpec{Collection: "c", ID: "y", Datetime: ptr(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))})
		type result struct {
			errs []error
			err  error
		}
		done := make(chan result, 1)
		go func() {
			errs, err := db.PutItems(ctx, []stac.Item{x, y}, mode)
			done <- result{errs, err}
		}()
		// Commit once PutItems' COPY waits for the other transaction.
		waitForLockedCopy(t, db.Pool())
		if err := other.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		res := <-done
		if res.err != nil {
			t.Fatalf("%s: %v", tc.name, res.err)
		}
		r, err := db.Item(ctx, "c", "x")
		if err != nil {
			t.Fatal(err)
		}
		mine := strings.Contains(string(r.Doc), `"mine"`)
		switch mode {
		case store.Upsert:
			if res.errs[0] != nil || !mine {
				t.Errorf("upsert: x error %v, holds PutItems' copy: %v", res.errs[0], mine)
			}
		case store.Create:
			if res.errs[0] == nil || mine {
				t.Errorf("create: x error %v (want a conflict), holds PutItems' copy: %v", res.errs[0], mine)
			}
		}
		if res.errs[1] != nil {
			t.Errorf("%s: y: %v", tc.name, res.errs[1])
		}
		if _, err := db.Item(ctx, "c", "y"); err != nil {
			t.Errorf("%s: y was lost: %v", tc.name, err)
		}
		db.Close()
	}
}

// waitForLockedCopy waits until a COPY into items waits for a lock.
func waitForLockedCopy(t *testing.T, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'copy%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatal("PutItems never waited in its COPY")
}

// TestNULInDocuments writes a collection and an item whose JSON holds
// \u0000, which jsonb refuses: both are stored (filters see U+FFFD) and
// read back byte for byte, by the direct COPY and by the upsert path.
func TestNULInDocuments(t *testing.T) {
	ctx := context.Background()
	db := newStore(t)
	defer db.Close()
	coll := storetest.Collection(t, "c")
	coll.Doc = []byte(strings.Replace(string(coll.Doc), `"description":"`, `"description":"a\u0000b `, 1))
	if err := db.PutCollection(ctx, coll, store.Create); err != nil {
		t.Fatal(err)
	}
	if r, err := db.Collection(ctx, "c"); err != nil || !strings.Contains(string(r.Doc), `a\u0000b`) {
		t.Fatalf("collection: %s %v", r.Doc, err)
	}
	it := storetest.Item(t, storetest.ItemSpec{Collection: "c", ID: "x", Datetime: ptr(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)),
		Props: map[string]any{"title": "a\u0000b"}})
	for _, path := range []string{"copy", "upsert"} { // the second write finds x stored
		errs, err := db.PutItems(ctx, []stac.Item{it}, store.Upsert)
		if err == nil {
			err = errs[0]
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r, err := db.Item(ctx, "c", "x")
		if err != nil || string(r.Doc) != string(it.Doc) {
			t.Fatalf("%s: stored %s (%v), want %s", path, r.Doc, err, it.Doc)
		}
	}
}
