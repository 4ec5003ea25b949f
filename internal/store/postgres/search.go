package postgres

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/cql2/cql2sql"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// Search implements store.Searcher.
func (db *DB) Search(ctx context.Context, q search.Query) (store.Page, error) {
	if q.Limit <= 0 {
		q.Limit = 10
	}
	p, err := db.plan(ctx, q)
	if err != nil {
		return store.Page{}, err
	}
	var (
		page  store.Page
		vals  [][]any // key values of each kept item
		want  = q.Limit + 1
		batch = want
		from  = p.cursor
	)
	if p.residual != nil {
		// Rows need the evaluator: read in growing batches, continuing
		// after the last row read, until a page (+1) passes.
		batch = max(4*want, 200)
	}
	for {
		sql, args := p.sql(from, batch)
		rows, err := db.r.Query(ctx, sql, args...)
		if err != nil {
			return store.Page{}, fmt.Errorf("postgres: search: %w", err)
		}
		n := 0
		for rows.Next() {
			rec, kv, err := p.scan(rows)
			if err != nil {
				rows.Close()
				return store.Page{}, err
			}
			n++
			from = kv
			if p.residual != nil {
				ok, err := store.Evaluate(p.residual, rec.Doc)
				if err != nil {
					rows.Close()
					return store.Page{}, err
				}
				if !ok {
					continue
				}
			}
			page.Items = append(page.Items, rec)
			vals = append(vals, kv)
			if len(page.Items) == want {
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return store.Page{}, fmt.Errorf("postgres: search: %w", err)
		}
		if p.residual == nil || len(page.Items) == want || n < batch {
			break
		}
		batch = min(2*batch, 10000)
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		page.Next = encodeCursor(p.keys, vals[q.Limit-1])
	} else if q.Token == "" {
		n := int64(len(page.Items))
		page.Matched = &n
	}
	return page, nil
}

// SupportsFilter implements store.Filterer.
func (db *DB) SupportsFilter() {}

// SupportsSort implements store.Sorter.
func (db *DB) SupportsSort() {}

// SupportsFreeText implements store.FreeTexter.
func (db *DB) SupportsFreeText() {}

var (
	_ store.Filterer   = (*DB)(nil)
	_ store.Sorter     = (*DB)(nil)
	_ store.FreeTexter = (*DB)(nil)
)

// plan compiles q, with the datetime floor read from the database.
func (db *DB) plan(ctx context.Context, q search.Query) (*plan, error) {
	var floor *time.Time
	if q.Datetime != nil && q.Datetime.Start != nil {
		f, ok, err := db.startFloor(ctx, *q.Datetime.Start)
		if err != nil {
			return nil, err
		}
		if ok {
			floor = &f
		}
	}
	return compile(q, floor)
}

// args collects bound arguments and names their placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// spanRefresh is how often a DB rereads the longest item interval, which
// other processes may have raised.
const spanRefresh = time.Second

// startFloor is the lowest start_datetime an item that ends at or after s
// can have: s minus the longest item interval stored. ok is false when
// that is before year 1 (no bound). The interval is reread at most every
// spanRefresh: an item longer than all before it, written by another
// process, may be missed by searches that start in the same second.
func (db *DB) startFloor(ctx context.Context, s time.Time) (time.Time, bool, error) {
	if last := db.spanRead.Load(); time.Since(time.Unix(0, last)) > spanRefresh {
		var span int64
		if err := db.r.QueryRow(ctx, `SELECT value FROM tessera_meta WHERE key = 'max_span_us'`).Scan(&span); err != nil {
			return time.Time{}, false, fmt.Errorf("postgres: read meta: %w", err)
		}
		db.raiseSpan(span)
		db.spanRead.Store(time.Now().UnixNano())
	}
	const year1 = -62135596800 * 1e6 // 0001-01-01 in unix µs
	f := s.UnixMicro() - db.maxSpan.Load()
	if f < year1 {
		return time.Time{}, false, nil
	}
	return time.UnixMicro(f).UTC(), true, nil
}

// plan is a compiled search: the WHERE conditions without the keyset
// bound, and the order.
type plan struct {
	where []string
	args  args
	keys  []sortKey
	// residual is the CQL2 filter rows must also pass (cql2.Evaluate) when
	// its SQL is only a prefilter; nil when the SQL is exact.
	residual cql2.Expr
	// cursor is the key values the token continues after (nil: none).
	cursor []any
}

// sql is the statement reading up to limit rows after the key values from
// (none when nil), in order.
func (p *plan) sql(from []any, limit int) (string, []any) {
	a := slices.Clone(p.args)
	where := slices.Clone(p.where)
	if from != nil {
		where = append(where, after(p.keys, from, &a))
	}
	var b strings.Builder
	b.WriteString("SELECT i.collection, i.id, i.doc")
	for _, k := range p.keys {
		b.WriteString(", " + k.expr)
	}
	b.WriteString(" FROM items i")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(orderBy(p.keys) + " LIMIT " + a.add(limit))
	return b.String(), a
}

// scan reads a row of p.sql.
func (p *plan) scan(rows pgx.Rows) (store.Record, []any, error) {
	var rec store.Record
	dest := []any{&rec.Collection, &rec.ID, &rec.Doc}
	for _, k := range p.keys {
		dest = append(dest, scanDest(k))
	}
	if err := rows.Scan(dest...); err != nil {
		return rec, nil, fmt.Errorf("postgres: search: %w", err)
	}
	vals := make([]any, len(p.keys))
	for i := range vals {
		vals[i] = deref(dest[3+i])
	}
	return rec, vals, nil
}

// compile turns a query into a plan whose SQL is exact (but for the
// residual filter) and reads rows in the result order. floor, when set, is
// startFloor(q.Datetime.Start): a constant the planner can estimate (a
// subquery it cannot would make it AND the datetime index into small bbox
// searches, scanning it at length).
func compile(q search.Query, floor *time.Time) (*plan, error) {
	keys, err := sortKeys(q.SortBy)
	if err != nil {
		return nil, err
	}
	p := &plan{keys: keys}
	a := &p.args
	where := &p.where
	switch {
	case q.BBox != nil:
		var ors []string
		for _, b := range q.BBox.Parts() {
			if b.MinX < b.MaxX && b.MinY < b.MaxY {
				ors = append(ors, fmt.Sprintf("ST_Intersects(i.geometry, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
					a.add(b.MinX), a.add(b.MinY), a.add(b.MaxX), a.add(b.MaxY)))
				continue
			}
			// A degenerate box is a point or a line, as in geo.BBox.Geometry.
			g := geom.NewEnvelope(geom.XY{X: b.MinX, Y: b.MinY}, geom.XY{X: b.MaxX, Y: b.MaxY}).AsGeometry()
			ors = append(ors, fmt.Sprintf("ST_Intersects(i.geometry, ST_GeomFromWKB(%s, 4326))", a.add(g.AsBinary())))
		}
		*where = append(*where, "("+strings.Join(ors, " OR ")+")")
	case q.Intersects != nil:
		if q.Intersects.IsEmpty() {
			return nil, &search.InvalidParamError{Param: "intersects", Reason: "geometry is empty"}
		}
		*where = append(*where, fmt.Sprintf("ST_Intersects(i.geometry, ST_GeomFromWKB(%s, 4326))", a.add(q.Intersects.Force2D().AsBinary())))
	}
	switch {
	case len(q.Collections) > 0:
		*where = append(*where, "i.collection = ANY("+a.add(q.Collections)+")")
	case len(q.IDs) > 0:
		// Lets each partition use its (collection, id) primary key.
		*where = append(*where, "i.collection = ANY(ARRAY(SELECT id FROM collections))")
	}
	if len(q.IDs) > 0 {
		*where = append(*where, "i.id = ANY("+a.add(q.IDs)+")")
	}
	if iv := q.Datetime; iv != nil {
		if iv.End != nil {
			*where = append(*where, "i.start_datetime <= "+a.add(iv.End.UTC()))
		}
		if iv.Start != nil {
			// end >= start bounds nothing in the index; items are at most
			// max_span long, so start_datetime >= start - max_span does.
			*where = append(*where, "i.end_datetime >= "+a.add(iv.Start.UTC()))
			if floor != nil {
				*where = append(*where, "i.start_datetime >= "+a.add(*floor))
			}
		}
	}
	if !q.Q.Empty() {
		*where = append(*where, freeTextSQL(q.Q, a))
	}
	if q.Filter != nil {
		c, err := cql2sql.Compile(q.Filter, &cql2sql.Postgres{Alias: "i", ArgOffset: len(*a), PropertiesOnly: true})
		if err != nil {
			return nil, &search.InvalidParamError{Param: "filter", Reason: err.Error(), Err: err}
		}
		*where = append(*where, "("+c.SQL+")")
		*a = append(*a, c.Args...)
		if !c.Exact {
			p.residual = q.Filter
		}
	}
	if q.Token != "" {
		vals, err := decodeCursor(q.Token, keys)
		if err != nil {
			return nil, err
		}
		p.cursor = vals
	}
	return p, nil
}

// freeTextSQL is the condition for a free-text query over search_text:
// exactly search.FreeText.Matches. The GIN index on the words narrows each
// phrase to the items holding all its words; LIKE then checks that they
// are adjacent.
func freeTextSQL(f *search.FreeText, a *args) string {
	phrase := func(p string) string {
		words := strings.Fields(p)
		// The expression of the items_search_words index, collation
		// included (migration 0006).
		has := `(string_to_array(i.search_text, ' ') COLLATE "C") @> ` + a.add(words) + "::text[]"
		if len(words) == 1 {
			return has
		}
		// Words are letters and digits: nothing to escape.
		return "(" + has + " AND (' ' || i.search_text || ' ') LIKE " + a.add("% "+p+" %") + ")"
	}
	var conds []string
	if len(f.Groups) > 0 {
		ors := make([]string, len(f.Groups))
		for i, g := range f.Groups {
			ands := make([]string, len(g))
			for j, p := range g {
				ands[j] = phrase(p)
			}
			ors[i] = "(" + strings.Join(ands, " AND ") + ")"
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	for _, p := range f.Required {
		conds = append(conds, phrase(p))
	}
	for _, p := range f.Excluded {
		conds = append(conds, "NOT ("+phrase(p)+")")
	}
	return "(" + strings.Join(conds, " AND ") + ")"
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
