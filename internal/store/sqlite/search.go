package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/cql2/cql2sql"
	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// defaultRTreeProbeCap bounds the R*Tree probe: a box with more candidates
// than this is not selective, and walking the datetime index (newest
// first, testing each entry's bbox, stopping at the page size) beats
// reading and sorting every R*Tree match. It was 2,000 while the walk read
// every row it passed; with the bbox in the index 800 is faster (6°
// intersects polygons at 1M items: p50 12.7 -> 4.4 ms, docs/benchmarks.md).
const defaultRTreeProbeCap = 800

// plan is a compiled search.
type plan struct {
	sql  string
	args []any
	// spatial is the exact spatial test for candidate rows, nil when the SQL
	// is exact.
	spatial *spatialTest
	// filter finishes a CQL2 filter whose SQL is only a prefilter.
	filter cql2.Expr
	// limit is the number of matching rows to read (page size + 1).
	limit int
	// keys is the order; their values are read back for the cursor.
	keys []sortKey
	// lateDocs selects rowids instead of documents: the rows a spatial
	// search sorts stay small, and the page's documents are read after.
	lateDocs bool
	// from and where are the FROM and WHERE clauses (where may be empty),
	// whose arguments (FROM's first) are whereArgs.
	from, where string
	whereArgs   []any
}

type spatialTest struct {
	box  *geo.BBox     // query box, when the search is a bbox search
	geom geom.Geometry // query geometry (the box as a geometry for bbox searches)
}

// matches reports whether a candidate row passes the exact test. Rows whose
// bbox lies inside the query box pass without decoding their geometry.
func (t *spatialTest) matches(b geo.BBox, wkb []byte) (bool, error) {
	if t.box != nil && !b.CrossesAntimeridian() && t.box.Covers(b) {
		return true, nil
	}
	g, err := geom.UnmarshalWKB(wkb, geom.NoValidate{})
	if err != nil {
		return false, fmt.Errorf("sqlite: stored geometry: %w", err)
	}
	return geom.Intersects(g, t.geom), nil
}

// Search implements store.Searcher.
func (db *DB) Search(ctx context.Context, q search.Query) (store.Page, error) {
	// One read transaction: the spatial candidates, the rows and (with
	// lateDocs) their documents come from the same snapshot.
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: search: %w", err)
	}
	defer tx.Rollback()
	drive, err := db.spatialCandidates(ctx, tx, q)
	if err != nil {
		return store.Page{}, err
	}
	broadText := false
	if !q.Q.Empty() {
		if broadText, err = db.broadFreeText(ctx, q.Q); err != nil {
			return store.Page{}, err
		}
	}
	p, err := db.compile(q, drive, broadText)
	if err != nil {
		return store.Page{}, err
	}
	rows, err := tx.QueryContext(ctx, p.sql, p.args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: search: %w", err)
	}
	defer rows.Close()
	var (
		page  store.Page
		last  []any   // sort key values of each kept row
		rowid []int64 // with lateDocs: the kept rows
	)
	nk := len(p.keys)
	for rows.Next() {
		var (
			rec  store.Record
			b    geo.BBox
			wkb  []byte
			vals = make([]any, nk)
		)
		var id int64
		docDest := any(&rec.Doc)
		if p.lateDocs {
			docDest = &id
		}
		dest := []any{&rec.Collection, &rec.ID, docDest, &b.MinX, &b.MinY, &b.MaxX, &b.MaxY, &wkb}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return store.Page{}, fmt.Errorf("sqlite: search: %w", err)
		}
		if p.spatial != nil {
			ok, err := p.spatial.matches(b, wkb)
			if err != nil {
				return store.Page{}, err
			}
			if !ok {
				continue
			}
		}
		if p.filter != nil {
			ok, err := store.Evaluate(p.filter, rec.Doc)
			if err != nil {
				return store.Page{}, err
			}
			if !ok {
				continue
			}
		}
		for i := range vals {
			vals[i] = scanValue(vals[i])
		}
		page.Items = append(page.Items, rec)
		rowid = append(rowid, id)
		if len(page.Items) == q.Limit {
			last = vals
		}
		if len(page.Items) >= p.limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("sqlite: search: %w", err)
	}
	rows.Close()
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		rowid = rowid[:q.Limit]
		page.Next = cursor{sig: sortSignature(p.keys), vals: last}.encode()
	} else if q.Token == "" {
		n := int64(len(page.Items))
		page.Matched = &n
	}
	if p.lateDocs {
		if err := fillDocs(ctx, tx, page.Items, rowid); err != nil {
			return store.Page{}, err
		}
	}
	return page, nil
}

// fillDocs reads the documents of the given rows.
func fillDocs(ctx context.Context, tx *sql.Tx, recs []store.Record, rowids []int64) error {
	if len(recs) == 0 {
		return nil
	}
	args := make([]any, len(rowids))
	at := make(map[int64]int, len(rowids))
	for i, id := range rowids {
		args[i] = id
		at[id] = i
	}
	rows, err := tx.QueryContext(ctx, "SELECT rowid, doc FROM items WHERE rowid IN ("+placeholders(len(args))+")", args...)
	if err != nil {
		return fmt.Errorf("sqlite: read documents: %w", err)
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var id int64
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return fmt.Errorf("sqlite: read documents: %w", err)
		}
		recs[at[id]].Doc = doc
		found++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read documents: %w", err)
	}
	if found != len(recs) {
		return fmt.Errorf("sqlite: %d of %d documents missing in the search's snapshot", len(recs)-found, len(recs))
	}
	return nil
}

// queryBoxes are the R*Tree boxes of a spatial query.
func queryBoxes(q search.Query) ([]geo.BBox, error) {
	switch {
	case q.BBox != nil:
		return q.BBox.Parts(), nil
	case q.Intersects != nil:
		env, ok := geo.EnvelopeBBox(*q.Intersects)
		if !ok {
			return nil, &search.InvalidParamError{Param: "intersects", Reason: "geometry is empty"}
		}
		return []geo.BBox{env}, nil
	}
	return nil, nil
}

// timeBox is the R*Tree condition (columns prefixed with col) of a
// datetime interval: the items' [mint, maxt] (centuries since 1970, see
// schema.sql) overlap it.
func timeBox(iv *search.Interval, col string) (string, []any) {
	if iv == nil {
		return "", nil
	}
	const usPerCentury = 86400e6 * 36500
	var conds []string
	var args []any
	if iv.End != nil {
		conds = append(conds, col+"mint <= ?")
		args = append(args, float64(iv.End.UnixMicro())/usPerCentury)
	}
	if iv.Start != nil {
		conds = append(conds, col+"maxt >= ?")
		args = append(args, float64(iv.Start.UnixMicro())/usPerCentury)
	}
	return strings.Join(conds, " AND "), args
}

// spatialDriver says how a spatial query finds its rows: walking the
// datetime index (rtree false), from the R*Tree joined first (rtree, ids
// ""), or from the R*Tree's candidates read beforehand (ids).
type spatialDriver struct {
	rtree bool
	ids   string // the candidates' rowids as a JSON array ("": join the R*Tree)
}

// spatialCandidates reads the rowids the R*Tree yields for a spatial
// query's boxes and time range when they are fewer than the probe cap: the
// search then reads just those rows. With more, the datetime index drives.
// (The candidates used to be counted and then found again by joining the
// R*Tree, walking it twice: a fifth of the server's CPU for a 4° box and
// 3 months at 1M items.)
func (db *DB) spatialCandidates(ctx context.Context, tx *sql.Tx, q search.Query) (spatialDriver, error) {
	boxes, err := queryBoxes(q)
	if err != nil || len(boxes) == 0 {
		return spatialDriver{}, err
	}
	var ors []string
	var args []any
	for _, b := range boxes {
		ors = append(ors, "(minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)")
		args = append(args, b.MaxX, b.MinX, b.MaxY, b.MinY)
	}
	where := "(" + strings.Join(ors, " OR ") + ")"
	if cond, targs := timeBox(q.Datetime, ""); cond != "" {
		where += " AND " + cond
		args = append(args, targs...)
	}
	// Free text makes the index walk longer (fewer of its rows match), so
	// the R*Tree may drive with more candidates. A filter does not: the
	// walk tests each entry's bbox in the index and reads only the rows
	// inside the box to test the filter, which beat reading every R*Tree
	// candidate (10° box at 1M items: 5–12 ms against 33–40 ms for
	// eo:cloud_cover < 1, 5 and 10).
	limit := db.probeCap
	if !q.Q.Empty() {
		limit *= 8
	}
	var (
		n    int
		list sql.NullString
	)
	err = tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*), group_concat(id) FROM (SELECT id FROM items_space_time WHERE %s LIMIT %d)`,
		where, limit), args...).Scan(&n, &list)
	if err != nil {
		return spatialDriver{}, fmt.Errorf("sqlite: probe spatial index: %w", err)
	}
	if n >= limit {
		return spatialDriver{}, nil
	}
	return spatialDriver{rtree: true, ids: "[" + list.String + "]"}, nil
}

// compile turns a query into SQL. Rows come out in the result order:
// start_datetime, id, collection, all descending. drive says what drives a
// spatial query.
func (db *DB) compile(q search.Query, drive spatialDriver, broadText bool) (plan, error) {
	p := plan{limit: q.Limit + 1, keys: db.sortKeys(q.SortBy)}
	var where []string
	from := "items i"
	// Spatial: R*Tree candidates, exact test in Go.
	boxes, err := queryBoxes(q)
	if err != nil {
		return plan{}, err
	}
	switch {
	case q.BBox != nil:
		p.spatial = &spatialTest{box: q.BBox, geom: q.BBox.Geometry()}
	case q.Intersects != nil:
		p.spatial = &spatialTest{geom: *q.Intersects}
	}
	switch {
	case len(boxes) > 0 && drive.ids != "":
		// The candidates come first (CROSS JOIN fixes the order; with
		// "rowid IN (...)" the planner walked the collection's datetime
		// index instead); their argument precedes the WHERE clause's.
		from = "json_each(?) c CROSS JOIN items i ON i.rowid = c.value"
		p.args = append(p.args, drive.ids)
	case len(boxes) > 0:
		rtreeFirst := drive.rtree
		var ors []string
		col := "i."
		if rtreeFirst {
			// R*Tree first: CROSS JOIN fixes the join order.
			from = "items_space_time r CROSS JOIN items i ON i.rowid = r.id"
			col = "r."
		}
		for _, b := range boxes {
			ors = append(ors, fmt.Sprintf("(%[1]sminx <= ? AND %[1]smaxx >= ? AND %[1]sminy <= ? AND %[1]smaxy >= ?)", col))
			p.args = append(p.args, b.MaxX, b.MinX, b.MaxY, b.MinY)
		}
		if col == "i." {
			// Items crossing the antimeridian have minx > maxx.
			ors = append(ors, "(i.minx > i.maxx AND i.miny <= ? AND i.maxy >= ?)")
			p.args = append(p.args, boxes[0].MaxY, boxes[0].MinY)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
		if rtreeFirst {
			// The R*Tree holds the time intervals too: it yields only the
			// items in the boxes and the time range (exact tests below).
			if cond, args := timeBox(q.Datetime, "r."); cond != "" {
				where = append(where, cond)
				p.args = append(p.args, args...)
			}
		}
	}
	if len(q.Collections) > 0 {
		where = append(where, "i.collection IN ("+placeholders(len(q.Collections))+")")
		for _, c := range q.Collections {
			p.args = append(p.args, c)
		}
	}
	if len(q.IDs) > 0 {
		where = append(where, "i.id IN ("+placeholders(len(q.IDs))+")")
		for _, id := range q.IDs {
			p.args = append(p.args, id)
		}
	}
	if iv := q.Datetime; iv != nil {
		if iv.End != nil {
			where = append(where, "i.start_datetime <= ?")
			p.args = append(p.args, iv.End.UnixMicro())
		}
		if iv.Start != nil {
			// end >= start bounds nothing in the index; items are at most
			// maxSpan long, so start_datetime >= start - maxSpan does.
			where = append(where, "i.end_datetime >= ?", "i.start_datetime >= ?")
			s := iv.Start.UnixMicro()
			p.args = append(p.args, s, s-db.maxSpan.Load())
		}
	}
	if !q.Q.Empty() {
		cond, args := freeTextSQL(q.Q, broadText)
		where = append(where, cond)
		p.args = append(p.args, args...)
	}
	if q.Filter != nil {
		c, err := cql2sql.Compile(q.Filter, &cql2sql.SQLite{Alias: "i", Doc: "doc", Columns: db.indexed})
		if err != nil {
			return plan{}, &search.InvalidParamError{Param: "filter", Reason: err.Error(), Err: err}
		}
		where = append(where, "("+c.SQL+")")
		p.args = append(p.args, c.Args...)
		if !c.Exact {
			p.filter = q.Filter
		}
	}
	if q.Token != "" {
		c, err := decodeCursor(q.Token, p.keys)
		if err != nil {
			return plan{}, err
		}
		cond, args := after(p.keys, c.vals)
		where = append(where, cond)
		p.args = append(p.args, args...)
	}
	p.from = from
	p.where = strings.Join(where, " AND ")
	p.whereArgs = append([]any(nil), p.args...)
	var b strings.Builder
	p.lateDocs = p.spatial != nil && p.filter == nil
	if p.lateDocs {
		b.WriteString("SELECT i.collection, i.id, i.rowid, i.minx, i.miny, i.maxx, i.maxy, ")
	} else {
		b.WriteString("SELECT i.collection, i.id, i.doc, i.minx, i.miny, i.maxx, i.maxy, ")
	}
	if p.spatial != nil {
		b.WriteString("i.geometry")
	} else {
		b.WriteString("NULL")
	}
	b.WriteString(", " + selectKeys(p.keys))
	b.WriteString(" FROM " + from)
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(orderBy(p.keys))
	if p.spatial == nil && p.filter == nil {
		fmt.Fprintf(&b, " LIMIT %d", p.limit)
	}
	p.sql = b.String()
	return p, nil
}

// SupportsFilter implements store.Filterer.
func (db *DB) SupportsFilter() {}

// SupportsSort implements store.Sorter.
func (db *DB) SupportsSort() {}

// SupportsFreeText implements store.FreeTexter.
func (db *DB) SupportsFreeText() {}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func encodeCollectionToken(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c1:" + id))
}

func decodeCollectionToken(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(b), "c1:") {
		return "", &search.InvalidParamError{Param: "token", Reason: "not a token this server issued (use the next link of a previous page)"}
	}
	return string(b[3:]), nil
}
