package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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
		p, err := db.compile(q, false, false)
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
