package sqlite

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/agg"
)

// keyExprs are the SQL expressions an aggregation counts by.
func (db *DB) keyExprs(a search.Aggregation) []string {
	switch a.Kind {
	case search.AggCount:
		return nil
	case search.AggDatetimeMin:
		return []string{"i.start_datetime"}
	case search.AggDatetimeMax:
		return []string{"i.end_datetime"}
	case search.AggDatetimeFrequency:
		return []string{"i.start_datetime / 3600000000"} // hours since 1970, merged in Go
	case search.AggTerms:
		if a.Field == "collection" {
			return []string{"i.collection"}
		}
		return []string{db.propertyExpr(a.Field, "text")}
	case search.AggRanges:
		return []string{db.propertyExpr(a.Field, "number")}
	default: // grids: the bbox centre
		return []string{"(i.minx + i.maxx) / 2", "(i.miny + i.maxy) / 2"}
	}
}

// propertyExpr reads a property of the given JSON kind (NULL otherwise).
func (db *DB) propertyExpr(name, kind string) string {
	if col, ok := db.indexed[name]; ok {
		return "i." + col.Name
	}
	path := `'$.properties."` + name + `"'`
	if kind == "number" {
		return "(CASE WHEN json_type(i.doc, " + path + ") IN ('integer','real') THEN json_extract(i.doc, " + path + ") END)"
	}
	return "(CASE WHEN json_type(i.doc, " + path + ") = 'text' THEN json_extract(i.doc, " + path + ") END)"
}

// add counts n items whose key values (those of keyExprs) are vals.
func add(c *agg.Counter, vals []any, n int64) {
	c.Count(n)
	switch c.Agg.Kind {
	case search.AggDatetimeMin, search.AggDatetimeMax:
		if v, ok := vals[0].(int64); ok {
			t := time.UnixMicro(v)
			c.Times(t, t)
		}
	case search.AggDatetimeFrequency:
		if h, ok := vals[0].(int64); ok {
			c.Time(time.Unix(h*3600, 0), n)
		}
	case search.AggTerms:
		if s, ok := vals[0].(string); ok {
			c.Term(s, n)
		}
	case search.AggRanges:
		if f, ok := toFloat(vals[0]); ok {
			c.Number(f, n)
		}
	case search.AggGeohash, search.AggGeotile:
		x, ok1 := toFloat(vals[0])
		y, ok2 := toFloat(vals[1])
		if ok1 && ok2 {
			c.Point(x, y, n)
		}
	}
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case int64:
		return float64(t), true
	case float64:
		return t, !math.IsNaN(t)
	}
	return 0, false
}

// Aggregate implements store.Aggregator.
func (db *DB) Aggregate(ctx context.Context, q search.Query, aggs []search.Aggregation) ([]store.AggregationResult, error) {
	q.Token, q.SortBy = "", nil
	// Aggregations read every match, in no order: the spatial index drives
	// whenever there is one (walking the datetime index pays off only for
	// a page).
	rtreeFirst := q.BBox != nil || q.Intersects != nil
	p, err := db.compile(q, spatialDriver{rtree: rtreeFirst}, false)
	if err != nil {
		return nil, err
	}
	where := ""
	if p.where != "" {
		where = " WHERE " + p.where
	}
	counters := make([]*agg.Counter, len(aggs))
	for i, a := range aggs {
		counters[i] = agg.New(a)
	}
	if p.spatial == nil && p.filter == nil {
		// Exact in SQL: count per key there.
		for _, c := range counters {
			if c.Agg.Kind == search.AggDatetimeFrequency && wholeCollections(q) {
				if err := db.histogram(ctx, q.Collections, c); err != nil {
					return nil, err
				}
				continue
			}
			keys := db.keyExprs(c.Agg)
			sel := strings.Join(append(append([]string(nil), keys...), "count(*)"), ", ")
			sqlText := "SELECT " + sel + " FROM " + p.from + where
			if len(keys) > 0 {
				sqlText += " GROUP BY " + strings.Join(keys, ", ")
			}
			if err := db.scanCounts(ctx, sqlText, p.whereArgs, len(keys), func(vals []any, n int64) { add(c, vals, n) }); err != nil {
				return nil, err
			}
		}
	} else {
		// Candidates need the exact test in Go: read each one's keys.
		var cols []string
		offsets := make([]int, len(counters))
		for i, c := range counters {
			offsets[i] = len(cols)
			cols = append(cols, db.keyExprs(c.Agg)...)
		}
		doc, geom := "NULL", "NULL" // read only what the exact tests need
		if p.filter != nil {
			doc = "i.doc"
		}
		if p.spatial != nil {
			geom = "i.geometry"
		}
		cols = append(cols, "i.minx", "i.miny", "i.maxx", "i.maxy", geom, doc)
		sqlText := "SELECT " + strings.Join(cols, ", ") + " FROM " + p.from + where
		rows, err := db.r.QueryContext(ctx, sqlText, p.whereArgs...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: aggregate: %w", err)
		}
		defer rows.Close()
		n := len(cols)
		vals := make([]any, n)
		dest := make([]any, n)
		for i := range vals {
			dest[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return nil, fmt.Errorf("sqlite: aggregate: %w", err)
			}
			b := geo.BBox{}
			b.MinX, _ = toFloat(vals[n-6])
			b.MinY, _ = toFloat(vals[n-5])
			b.MaxX, _ = toFloat(vals[n-4])
			b.MaxY, _ = toFloat(vals[n-3])
			if p.spatial != nil {
				wkb, _ := vals[n-2].([]byte)
				ok, err := p.spatial.matches(b, wkb)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			if p.filter != nil {
				doc, _ := vals[n-1].([]byte)
				if s, ok := vals[n-1].(string); ok {
					doc = []byte(s)
				}
				ok, err := store.Evaluate(p.filter, doc)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			for i, c := range counters {
				k := len(db.keyExprs(c.Agg))
				row := make([]any, k)
				for j := range row {
					row[j] = scanValue(vals[offsets[i]+j])
				}
				add(c, row, 1)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: aggregate: %w", err)
		}
	}
	out := make([]store.AggregationResult, len(counters))
	for i, c := range counters {
		out[i] = c.Result()
	}
	return out, nil
}

func (db *DB) scanCounts(ctx context.Context, sqlText string, args []any, nkeys int, add func([]any, int64)) error {
	rows, err := db.r.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return fmt.Errorf("sqlite: aggregate: %w", err)
	}
	defer rows.Close()
	vals := make([]any, nkeys)
	var n int64
	dest := make([]any, nkeys+1)
	for i := range vals {
		dest[i] = &vals[i]
	}
	dest[nkeys] = &n
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("sqlite: aggregate: %w", err)
		}
		row := make([]any, nkeys)
		for i := range vals {
			row[i] = scanValue(vals[i])
		}
		add(row, n)
	}
	return rows.Err()
}

var _ store.Aggregator = (*DB)(nil)
