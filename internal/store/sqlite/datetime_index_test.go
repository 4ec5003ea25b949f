package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
)

// TestDatetimeWalkTestsBBoxInIndex checks that a search by place that
// walks the datetime index tests the bbox on the index entries and seeks
// the table only for the entries inside the box (OP_DeferredSeek), also
// in catalogs made with the older indexes, which are replaced when opened.
func TestDatetimeWalkTestsBBoxInIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `DROP INDEX items_datetime_bbox; DROP INDEX items_collection_datetime_bbox;
		CREATE INDEX items_datetime ON items (start_datetime DESC, id DESC, collection DESC);
		CREATE INDEX items_collection_datetime ON items (collection, start_datetime DESC, id DESC)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(ctx, path, Options{RTreeProbeCap: 1}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, want := range map[string]bool{
		"items_datetime_bbox": true, "items_collection_datetime_bbox": true,
		"items_datetime": false, "items_collection_datetime": false,
	} {
		if have, err := hasObject(ctx, db.w, name); err != nil || have != want {
			t.Errorf("index %s: present %v (%v), want %v", name, have, err, want)
		}
	}
	for _, q := range []search.Query{
		{Limit: 10, BBox: &geo.BBox{MinX: 10, MinY: 10, MaxX: 20, MaxY: 20}},
		{Limit: 10, BBox: &geo.BBox{MinX: 10, MinY: 10, MaxX: 20, MaxY: 20}, Collections: []string{"c"}},
	} {
		p, err := db.compile(q, spatialDriver{}, false)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.r.QueryContext(ctx, "EXPLAIN "+p.sql, p.args...)
		if err != nil {
			t.Fatal(err)
		}
		var ops []string
		for rows.Next() {
			var addr, p1, p2, p3 int64
			var op string
			var p4, p5, comment any
			if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
		}
		rows.Close()
		if prog := strings.Join(ops, " "); !strings.Contains(prog, "DeferredSeek") {
			t.Errorf("%s: the walk seeks every row (no DeferredSeek): %s", p.sql, prog)
		}
	}
}

// TestSpatialCandidatesDriveTheSearch: a search whose box and time range
// hold few R*Tree candidates reads them by rowid (they are read once, by
// the probe); with "rowid IN (...)" the planner walked the collection's
// datetime index instead.
func TestSpatialCandidatesDriveTheSearch(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "catalog.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.AddDate(0, 3, 0)
	q := search.Query{Limit: 10, Collections: []string{"c"}, BBox: &geo.BBox{MinX: 10, MinY: 10, MaxX: 14, MaxY: 14},
		Datetime: &search.Interval{Start: &t0, End: &t1}}
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	drive, err := db.spatialCandidates(ctx, tx, q)
	if err != nil || !drive.rtree || drive.ids != "[]" {
		t.Fatalf("candidates of an empty catalog: %+v, %v", drive, err)
	}
	p, err := db.compile(q, drive, false)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.QueryContext(ctx, "EXPLAIN QUERY PLAN "+p.sql, p.args...)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	if s := strings.Join(plan, "; "); !strings.Contains(s, "SEARCH i USING INTEGER PRIMARY KEY") || strings.Contains(s, "INDEX items_") {
		t.Fatalf("plan %q: want the candidates looked up by rowid", s)
	}
}
