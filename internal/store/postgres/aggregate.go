package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/agg"
)

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
	counters := make([]*agg.Counter, len(aggs))
	for i, a := range aggs {
		counters[i] = agg.New(a)
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
		out[i] = c.Result()
	}
	return out, nil
}

// aggregateSQL computes one aggregation with one statement.
func aggregateSQL(ctx context.Context, tx pgx.Tx, c *agg.Counter, where string, args []any) error {
	from := " FROM items i" + where
	fail := func(err error) error { return fmt.Errorf("postgres: aggregate %s: %w", c.Agg.Name, err) }
	switch c.Agg.Kind {
	case search.AggCount:
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*)"+from, args...).Scan(&n); err != nil {
			return fail(err)
		}
		c.Count(n)
		return nil
	case search.AggDatetimeMin, search.AggDatetimeMax:
		var lo, hi *time.Time
		if err := tx.QueryRow(ctx, "SELECT min(i.start_datetime), max(i.end_datetime)"+from, args...).Scan(&lo, &hi); err != nil {
			return fail(err)
		}
		if lo != nil && hi != nil {
			c.Times(*lo, *hi)
		}
		return nil
	}
	var sql string
	switch c.Agg.Kind {
	case search.AggDatetimeFrequency:
		iv := c.Agg.Interval
		switch iv {
		case "year", "day", "hour":
		default:
			iv = "month"
		}
		sql = "SELECT date_trunc('" + iv + "', i.start_datetime AT TIME ZONE 'UTC'), count(*)" + from + " GROUP BY 1"
	case search.AggTerms:
		expr := "i.collection"
		if c.Agg.Field != "collection" {
			e, err := propertySQL(c.Agg.Field, "string")
			if err != nil {
				return err
			}
			expr = e
		}
		sql = "SELECT " + expr + ", count(*)" + from + " GROUP BY 1"
	case search.AggRanges:
		e, err := propertySQL(c.Agg.Field, "number")
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
		switch c.Agg.Kind {
		case search.AggDatetimeFrequency:
			var t time.Time
			if err := rows.Scan(&t, &n); err != nil {
				return fail(err)
			}
			c.Time(t, n)
		case search.AggTerms:
			var s *string
			if err := rows.Scan(&s, &n); err != nil {
				return fail(err)
			}
			if s != nil {
				c.Term(*s, n)
			}
		case search.AggRanges:
			var f *float64
			if err := rows.Scan(&f, &n); err != nil {
				return fail(err)
			}
			if f != nil {
				c.Number(*f, n)
			}
		default:
			var x, y float64
			if err := rows.Scan(&x, &y, &n); err != nil {
				return fail(err)
			}
			c.Point(x, y, n)
		}
		c.Count(n)
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return nil
}

// aggregateRows reads the candidates, keeps those that pass the filter and
// counts them in Go.
func aggregateRows(ctx context.Context, tx pgx.Tx, counters []*agg.Counter, where string, args []any, filter cql2.Expr) error {
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
			c.Count(1)
			switch c.Agg.Kind {
			case search.AggDatetimeMin, search.AggDatetimeMax:
				c.Times(start, end)
			case search.AggDatetimeFrequency:
				c.Time(start, 1)
			case search.AggTerms:
				if c.Agg.Field == "collection" {
					c.Term(coll, 1)
				} else if s, ok := props[c.Agg.Field].(string); ok {
					c.Term(s, 1)
				}
			case search.AggRanges:
				if f, ok := props[c.Agg.Field].(float64); ok {
					c.Number(f, 1)
				}
			case search.AggGeohash, search.AggGeotile:
				c.Point(x, y, 1)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: aggregate: %w", err)
	}
	return nil
}

var _ store.Aggregator = (*DB)(nil)
