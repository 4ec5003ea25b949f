package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// maxTerms is how many buckets a terms aggregation returns.
const maxTerms = 100

const aggTimeFormat = "2006-01-02T15:04:05.000Z"

// counter accumulates one aggregation.
type counter struct {
	agg      search.Aggregation
	total    int64
	counts   map[string]int64
	min, max *time.Time
}

func (c *counter) times(start, end time.Time) {
	if c.min == nil || start.Before(*c.min) {
		c.min = &start
	}
	if c.max == nil || end.After(*c.max) {
		c.max = &end
	}
}

// truncate is the start of the datetime_frequency interval holding t.
func truncate(t time.Time, interval string) time.Time {
	t = t.UTC()
	switch interval {
	case "year":
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	case "day":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case "hour":
		return t.Truncate(time.Hour)
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func (c *counter) number(f float64, n int64) {
	for i, r := range c.agg.Ranges {
		if (r.From == nil || f >= *r.From) && (r.To == nil || f < *r.To) {
			c.counts[strconv.Itoa(i)] += n
			return
		}
	}
}

func (c *counter) point(x, y float64, n int64) {
	if x > 180 { // as the SQLite store
		x -= 360
	}
	if c.agg.Kind == search.AggGeohash {
		c.counts[geo.Geohash(x, y, c.agg.Precision)] += n
	} else {
		c.counts[geo.Geotile(x, y, c.agg.Precision)] += n
	}
}

func (c *counter) result() store.AggregationResult {
	r := store.AggregationResult{Name: c.agg.Name, DataType: c.agg.DataType}
	format := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return t.UTC().Format(aggTimeFormat)
	}
	switch c.agg.Kind {
	case search.AggCount:
		r.Value = c.total
		return r
	case search.AggDatetimeMin:
		r.Value = format(c.min)
		return r
	case search.AggDatetimeMax:
		r.Value = format(c.max)
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

// propertySQL reads a property when its JSON type is typ (NULL otherwise).
func propertySQL(name, typ string) (string, error) {
	if !safeKey(name) {
		return "", fmt.Errorf("postgres: aggregate: property %q cannot be read", name)
	}
	ref := "(i.content->'properties'->'" + name + "')"
	if typ == "number" {
		return "(CASE WHEN jsonb_typeof(" + ref + ") = 'number' THEN (" + ref + ")::float8 END)", nil
	}
	return "(CASE WHEN jsonb_typeof(" + ref + ") = 'string' THEN " + ref + " #>> '{}' END)", nil
}

// Aggregate implements store.Aggregator: in SQL (GROUP BY) when the search
// is exact there, else over the candidate rows that pass the residual
// filter, in Go. All statements read one snapshot.
func (db *DB) Aggregate(ctx context.Context, q search.Query, aggs []search.Aggregation) ([]store.AggregationResult, error) {
	q.Token, q.SortBy = "", nil
	p, err := db.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	where := ""
	if len(p.where) > 0 {
		where = " WHERE " + strings.Join(p.where, " AND ")
	}
	counters := make([]*counter, len(aggs))
	for i, a := range aggs {
		counters[i] = &counter{agg: a, counts: map[string]int64{}}
	}
	tx, err := db.r.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgres: aggregate: %w", err)
	}
	defer tx.Rollback(context.Background())
	if p.residual == nil {
		for _, c := range counters {
			if err := aggregateSQL(ctx, tx, c, where, p.args); err != nil {
				return nil, err
			}
		}
	} else if err := aggregateRows(ctx, tx, counters, where, p.args, p.residual); err != nil {
		return nil, err
	}
	out := make([]store.AggregationResult, len(counters))
	for i, c := range counters {
		out[i] = c.result()
	}
	return out, nil
}

// aggregateSQL computes one aggregation with one statement.
func aggregateSQL(ctx context.Context, tx pgx.Tx, c *counter, where string, args []any) error {
	from := " FROM items i" + where
	fail := func(err error) error { return fmt.Errorf("postgres: aggregate %s: %w", c.agg.Name, err) }
	switch c.agg.Kind {
	case search.AggCount:
		if err := tx.QueryRow(ctx, "SELECT count(*)"+from, args...).Scan(&c.total); err != nil {
			return fail(err)
		}
		return nil
	case search.AggDatetimeMin, search.AggDatetimeMax:
		var lo, hi *time.Time
		if err := tx.QueryRow(ctx, "SELECT min(i.start_datetime), max(i.end_datetime)"+from, args...).Scan(&lo, &hi); err != nil {
			return fail(err)
		}
		c.min, c.max = lo, hi
		return nil
	}
	var sql string
	switch c.agg.Kind {
	case search.AggDatetimeFrequency:
		iv := c.agg.Interval
		switch iv {
		case "year", "day", "hour":
		default:
			iv = "month"
		}
		sql = "SELECT date_trunc('" + iv + "', i.start_datetime AT TIME ZONE 'UTC'), count(*)" + from + " GROUP BY 1"
	case search.AggTerms:
		expr := "i.collection"
		if c.agg.Field != "collection" {
			e, err := propertySQL(c.agg.Field, "string")
			if err != nil {
				return err
			}
			expr = e
		}
		sql = "SELECT " + expr + ", count(*)" + from + " GROUP BY 1"
	case search.AggRanges:
		e, err := propertySQL(c.agg.Field, "number")
		if err != nil {
			return err
		}
		sql = "SELECT " + e + ", count(*)" + from + " GROUP BY 1"
	default: // grids
		sql = "SELECT i.bbox_cx, i.bbox_cy, count(*)" + from + " GROUP BY 1, 2"
	}
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		switch c.agg.Kind {
		case search.AggDatetimeFrequency:
			var t time.Time
			if err := rows.Scan(&t, &n); err != nil {
				return fail(err)
			}
			c.counts[t.Format(aggTimeFormat)] += n
		case search.AggTerms:
			var s *string
			if err := rows.Scan(&s, &n); err != nil {
				return fail(err)
			}
			if s != nil {
				c.counts[*s] += n
			}
		case search.AggRanges:
			var f *float64
			if err := rows.Scan(&f, &n); err != nil {
				return fail(err)
			}
			if f != nil {
				c.number(*f, n)
			}
		default:
			var x, y float64
			if err := rows.Scan(&x, &y, &n); err != nil {
				return fail(err)
			}
			c.point(x, y, n)
		}
		c.total += n
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return nil
}

// aggregateRows reads the candidates, keeps those that pass the filter and
// counts them in Go.
func aggregateRows(ctx context.Context, tx pgx.Tx, counters []*counter, where string, args []any, filter cql2.Expr) error {
	rows, err := tx.Query(ctx, "SELECT i.collection, i.start_datetime, i.end_datetime, i.bbox_cx, i.bbox_cy, i.doc FROM items i"+where, args...)
	if err != nil {
		return fmt.Errorf("postgres: aggregate: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			coll       string
			start, end time.Time
			x, y       float64
			doc        []byte
		)
		if err := rows.Scan(&coll, &start, &end, &x, &y, &doc); err != nil {
			return fmt.Errorf("postgres: aggregate: %w", err)
		}
		var item map[string]any
		if err := json.Unmarshal(doc, &item); err != nil {
			return fmt.Errorf("postgres: stored document: %w", err)
		}
		ok, err := cql2.Evaluate(filter, item)
		if err != nil {
			return &search.InvalidParamError{Param: "filter", Reason: err.Error(), Err: err}
		}
		if !ok {
			continue
		}
		props, _ := item["properties"].(map[string]any)
		for _, c := range counters {
			c.total++
			switch c.agg.Kind {
			case search.AggDatetimeMin, search.AggDatetimeMax:
				c.times(start.UTC(), end.UTC())
			case search.AggDatetimeFrequency:
				c.counts[truncate(start, c.agg.Interval).Format(aggTimeFormat)]++
			case search.AggTerms:
				if c.agg.Field == "collection" {
					c.counts[coll]++
				} else if s, ok := props[c.agg.Field].(string); ok {
					c.counts[s]++
				}
			case search.AggRanges:
				if f, ok := props[c.agg.Field].(float64); ok {
					c.number(f, 1)
				}
			case search.AggGeohash, search.AggGeotile:
				c.point(x, y, 1)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: aggregate: %w", err)
	}
	return nil
}

var _ store.Aggregator = (*DB)(nil)
