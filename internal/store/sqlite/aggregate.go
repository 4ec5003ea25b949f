package sqlite

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// maxTerms is how many buckets a terms aggregation returns.
const maxTerms = 100

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

// counter accumulates (key, count) pairs for one aggregation.
type counter struct {
	agg    search.Aggregation
	total  int64
	counts map[string]int64
	min    *int64
	max    *int64
}

func (c *counter) add(vals []any, n int64) {
	c.total += n
	switch c.agg.Kind {
	case search.AggDatetimeMin, search.AggDatetimeMax:
		v, ok := vals[0].(int64)
		if !ok {
			return
		}
		if c.min == nil || v < *c.min {
			c.min = &v
		}
		if c.max == nil || v > *c.max {
			c.max = &v
		}
	case search.AggDatetimeFrequency:
		h, ok := vals[0].(int64)
		if !ok {
			return
		}
		t := time.Unix(h*3600, 0).UTC()
		var k time.Time
		switch c.agg.Interval {
		case "year":
			k = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		case "day":
			k = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		case "hour":
			k = t
		default:
			k = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
		c.counts[k.Format("2006-01-02T15:04:05.000Z")] += n
	case search.AggTerms:
		if s, ok := vals[0].(string); ok {
			c.counts[s] += n
		}
	case search.AggRanges:
		f, ok := toFloat(vals[0])
		if !ok {
			return
		}
		for i, r := range c.agg.Ranges {
			if (r.From == nil || f >= *r.From) && (r.To == nil || f < *r.To) {
				c.counts[strconv.Itoa(i)] += n
				break
			}
		}
	case search.AggGeohash, search.AggGeotile:
		x, ok1 := toFloat(vals[0])
		y, ok2 := toFloat(vals[1])
		if !ok1 || !ok2 {
			return
		}
		if x > 180 { // centre of a bbox crossing the antimeridian
			x -= 360
		}
		if c.agg.Kind == search.AggGeohash {
			c.counts[geo.Geohash(x, y, c.agg.Precision)] += n
		} else {
			c.counts[geo.Geotile(x, y, c.agg.Precision)] += n
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

func (c *counter) result() store.AggregationResult {
	r := store.AggregationResult{Name: c.agg.Name, DataType: c.agg.DataType}
	micros := func(v *int64) any {
		if v == nil {
			return nil
		}
		return time.UnixMicro(*v).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	switch c.agg.Kind {
	case search.AggCount:
		r.Value = c.total
		return r
	case search.AggDatetimeMin:
		r.Value = micros(c.min)
		return r
	case search.AggDatetimeMax:
		r.Value = micros(c.max)
		return r
	case search.AggRanges:
		for i, rg := range c.agg.Ranges {
			if n := c.counts[strconv.Itoa(i)]; n > 0 {
				r.Buckets = append(r.Buckets, store.Bucket{Key: rangeKey(rg), DataType: "numeric", Frequency: n, From: rg.From, To: rg.To})
			}
		}
		return r
	}
	dt := "string"
	if c.agg.Kind == search.AggDatetimeFrequency {
		dt = "datetime"
	}
	for k, n := range c.counts {
		r.Buckets = append(r.Buckets, store.Bucket{Key: k, DataType: dt, Frequency: n})
	}
	if c.agg.Kind == search.AggDatetimeFrequency {
		sort.Slice(r.Buckets, func(i, j int) bool { return r.Buckets[i].Key < r.Buckets[j].Key })
		return r
	}
	sort.Slice(r.Buckets, func(i, j int) bool {
		if r.Buckets[i].Frequency != r.Buckets[j].Frequency {
			return r.Buckets[i].Frequency > r.Buckets[j].Frequency
		}
		return r.Buckets[i].Key < r.Buckets[j].Key
	})
	if len(r.Buckets) > maxTerms {
		for _, b := range r.Buckets[maxTerms:] {
			r.Overflow += b.Frequency
		}
		r.Buckets = r.Buckets[:maxTerms]
	}
	return r
}

func rangeKey(r search.Range) string {
	f := func(p *float64) string {
		if p == nil {
			return "*"
		}
		return strconv.FormatFloat(*p, 'f', 1, 64)
	}
	return f(r.From) + "-" + f(r.To)
}

// Aggregate implements store.Aggregator.
func (db *DB) Aggregate(ctx context.Context, q search.Query, aggs []search.Aggregation) ([]store.AggregationResult, error) {
	q.Token, q.SortBy = "", nil
	rtreeFirst, err := db.selective(ctx, q)
	if err != nil {
		return nil, err
	}
	p, err := db.compile(q, rtreeFirst)
	if err != nil {
		return nil, err
	}
	where := ""
	if p.where != "" {
		where = " WHERE " + p.where
	}
	counters := make([]*counter, len(aggs))
	for i, a := range aggs {
		counters[i] = &counter{agg: a, counts: map[string]int64{}}
	}
	if p.spatial == nil && p.filter == nil {
		// Exact in SQL: count per key there.
		for _, c := range counters {
			keys := db.keyExprs(c.agg)
			sel := strings.Join(append(append([]string(nil), keys...), "count(*)"), ", ")
			sqlText := "SELECT " + sel + " FROM " + p.from + where
			if len(keys) > 0 {
				sqlText += " GROUP BY " + strings.Join(keys, ", ")
			}
			if err := db.scanCounts(ctx, sqlText, p.whereArgs, len(keys), func(vals []any, n int64) { c.add(vals, n) }); err != nil {
				return nil, err
			}
		}
	} else {
		// Candidates need the exact test in Go: read each one's keys.
		var cols []string
		offsets := make([]int, len(counters))
		for i, c := range counters {
			offsets[i] = len(cols)
			cols = append(cols, db.keyExprs(c.agg)...)
		}
		cols = append(cols, "i.minx", "i.miny", "i.maxx", "i.maxy", "i.geometry", "i.doc")
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
				ok, err := evaluate(p.filter, doc)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			for i, c := range counters {
				k := len(db.keyExprs(c.agg))
				row := make([]any, k)
				for j := range row {
					row[j] = scanValue(vals[offsets[i]+j])
				}
				c.add(row, 1)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: aggregate: %w", err)
		}
	}
	out := make([]store.AggregationResult, len(counters))
	for i, c := range counters {
		out[i] = c.result()
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
