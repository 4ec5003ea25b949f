package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// Search implements store.Searcher.
func (db *DB) Search(ctx context.Context, q search.Query) (store.Page, error) {
	if q.Limit <= 0 {
		q.Limit = 10
	}
	if q.Filter != nil {
		// Not a store.Filterer (yet): the API never sends filters here.
		return store.Page{}, errors.New("postgres: this store does not evaluate CQL2 filters yet")
	}
	var floor *time.Time
	if q.Datetime != nil && q.Datetime.Start != nil {
		f, ok, err := db.startFloor(ctx, *q.Datetime.Start)
		if err != nil {
			return store.Page{}, err
		}
		if ok {
			floor = &f
		}
	}
	sql, args, err := compile(q, floor)
	if err != nil {
		return store.Page{}, err
	}
	rows, err := db.r.Query(ctx, sql, args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("postgres: search: %w", err)
	}
	defer rows.Close()
	var (
		page store.Page
		keys []cursor
	)
	for rows.Next() {
		var (
			rec   store.Record
			start time.Time
		)
		if err := rows.Scan(&rec.Collection, &rec.ID, &rec.Doc, &start); err != nil {
			return store.Page{}, fmt.Errorf("postgres: search: %w", err)
		}
		page.Items = append(page.Items, rec)
		keys = append(keys, cursor{Start: start.UnixMicro(), ID: rec.ID, Collection: rec.Collection})
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("postgres: search: %w", err)
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		page.Next = keys[q.Limit-1].encode()
	} else if q.Token == "" {
		n := int64(len(page.Items))
		page.Matched = &n
	}
	return page, nil
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

// compile turns a query into one exact SQL statement whose rows come out in
// the result order: start_datetime, id, collection, all descending. It
// reads one row more than the page to know whether there is a next page.
// floor, when set, is startFloor(q.Datetime.Start): a constant the planner
// can estimate (a subquery it cannot would make it AND the datetime index
// into small bbox searches, scanning it at length).
func compile(q search.Query, floor *time.Time) (string, []any, error) {
	var (
		a     args
		where []string
	)
	switch {
	case q.BBox != nil:
		var ors []string
		for _, p := range q.BBox.Parts() {
			if p.MinX < p.MaxX && p.MinY < p.MaxY {
				ors = append(ors, fmt.Sprintf("ST_Intersects(i.geometry, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
					a.add(p.MinX), a.add(p.MinY), a.add(p.MaxX), a.add(p.MaxY)))
				continue
			}
			// A degenerate box is a point or a line, as in geo.BBox.Geometry.
			g := geom.NewEnvelope(geom.XY{X: p.MinX, Y: p.MinY}, geom.XY{X: p.MaxX, Y: p.MaxY}).AsGeometry()
			ors = append(ors, fmt.Sprintf("ST_Intersects(i.geometry, ST_GeomFromWKB(%s, 4326))", a.add(g.AsBinary())))
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	case q.Intersects != nil:
		if q.Intersects.IsEmpty() {
			return "", nil, &search.InvalidParamError{Param: "intersects", Reason: "geometry is empty"}
		}
		where = append(where, fmt.Sprintf("ST_Intersects(i.geometry, ST_GeomFromWKB(%s, 4326))", a.add(q.Intersects.Force2D().AsBinary())))
	}
	switch {
	case len(q.Collections) > 0:
		where = append(where, "i.collection = ANY("+a.add(q.Collections)+")")
	case len(q.IDs) > 0:
		// Lets each partition use its (collection, id) primary key.
		where = append(where, "i.collection = ANY(ARRAY(SELECT id FROM collections))")
	}
	if len(q.IDs) > 0 {
		where = append(where, "i.id = ANY("+a.add(q.IDs)+")")
	}
	if iv := q.Datetime; iv != nil {
		if iv.End != nil {
			where = append(where, "i.start_datetime <= "+a.add(iv.End.UTC()))
		}
		if iv.Start != nil {
			// end >= start bounds nothing in the index; items are at most
			// max_span long, so start_datetime >= start - max_span does.
			where = append(where, "i.end_datetime >= "+a.add(iv.Start.UTC()))
			if floor != nil {
				where = append(where, "i.start_datetime >= "+a.add(*floor))
			}
		}
	}
	// CQL2 (q.Filter): AND in the clause of cql2sql.Compile(q.Filter,
	// &cql2sql.Postgres{Alias: "i", ArgOffset: len(a)}) here, add its args,
	// evaluate rows with cql2.Evaluate when it is not Exact, and implement
	// store.Filterer.
	if q.Token != "" {
		k, err := decodeCursor(q.Token)
		if err != nil {
			return "", nil, err
		}
		where = append(where, fmt.Sprintf("(i.start_datetime, i.id, i.collection) < (%s, %s, %s)",
			a.add(time.UnixMicro(k.Start).UTC()), a.add(k.ID), a.add(k.Collection)))
	}
	var b strings.Builder
	b.WriteString("SELECT i.collection, i.id, i.doc, i.start_datetime FROM items i")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY i.start_datetime DESC, i.id DESC, i.collection DESC LIMIT " + a.add(q.Limit+1))
	return b.String(), a, nil
}

// cursor is the sort key of the last item of a page.
type cursor struct {
	Start      int64 // unix µs
	ID         string
	Collection string
}

// Tokens have the SQLite store's layout (base64url of [1, start µs, id,
// collection]); the backends order results alike, so they even carry over.
func (c cursor) encode() string {
	b, _ := json.Marshal([]any{1, c.Start, c.ID, c.Collection})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	bad := &search.InvalidParamError{Param: "token", Reason: "not a token this server issued (use the next link of a previous page)"}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	var v []json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil || len(v) != 4 || string(v[0]) != "1" {
		return cursor{}, bad
	}
	var c cursor
	if json.Unmarshal(v[1], &c.Start) != nil || json.Unmarshal(v[2], &c.ID) != nil || json.Unmarshal(v[3], &c.Collection) != nil {
		return cursor{}, bad
	}
	return c, nil
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
