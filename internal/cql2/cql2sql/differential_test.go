package cql2sql_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peterstace/simplefeatures/geom"
	_ "modernc.org/sqlite"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/cql2/cql2sql"
)

// schema is the items table of the SQLite store.
const schema = `CREATE TABLE items (
  rowid INTEGER PRIMARY KEY,
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  datetime INTEGER,
  start_datetime INTEGER NOT NULL,
  end_datetime INTEGER NOT NULL,
  minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
  geometry BLOB NOT NULL,
  doc TEXT NOT NULL,
  UNIQUE(collection, id)
)`

var words = []string{
	"Sentinel-2A", "sentinel-2b", "SENTINEL-2A", "Landsat-8", "landsat-9", "Élan", "élan", "ELAN",
	"\u212Aelvin", "kelvin", "Straße", "STRASSE", "naïve", "naive", "100%_done", "a*b?[c]", "", "café",
	"CAFÉ", "İstanbul", "istanbul", "x'y", `back\slash`,
}

var base = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

func randTime(r *rand.Rand) time.Time {
	return base.Add(time.Duration(r.IntN(3*24*365)) * time.Hour).Add(time.Duration(r.IntN(3)) * 500 * time.Millisecond)
}

func randScalar(r *rand.Rand) any {
	switch r.IntN(4) {
	case 0:
		return words[r.IntN(len(words))]
	case 1:
		return float64(r.IntN(10))
	case 2:
		return r.IntN(2) == 0
	default:
		return float64(r.IntN(100)) / 4
	}
}

func randGeometry(r *rand.Rand) geom.Geometry {
	x, y := float64(r.IntN(40)-20), float64(r.IntN(40)-20)
	switch r.IntN(3) {
	case 0:
		return geom.NewPointXY(x+0.5, y+0.5).AsGeometry()
	case 1:
		w, h := float64(1+r.IntN(6)), float64(1+r.IntN(6))
		return geom.NewPolygonXY([]float64{x, y, x + w, y, x + w, y + h, x, y + h, x, y}).AsGeometry()
	default:
		return geom.NewPolygonXY([]float64{x, y, x + 4, y, x, y + 4, x, y}).AsGeometry()
	}
}

type item struct {
	doc map[string]any
	raw string
}

func genItems(r *rand.Rand, n int) []item {
	items := make([]item, n)
	for i := range items {
		props := map[string]any{}
		switch r.IntN(10) {
		case 0, 1, 2:
			a := randTime(r)
			props["datetime"] = nil
			props["start_datetime"] = a.Format(time.RFC3339Nano)
			props["end_datetime"] = a.Add(time.Duration(r.IntN(2000)) * time.Hour).Format(time.RFC3339Nano)
		case 3:
			props["datetime"] = randTime(r).In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)
		default:
			props["datetime"] = randTime(r).Format(time.RFC3339Nano)
		}
		switch r.IntN(8) {
		case 0:
		case 1:
			props["eo:cloud_cover"] = nil
		case 2:
			props["eo:cloud_cover"] = "12"
		default:
			props["eo:cloud_cover"] = float64(r.IntN(101))
		}
		if r.IntN(6) > 0 {
			props["platform"] = words[r.IntN(len(words))]
		}
		if r.IntN(4) > 0 {
			props["count"] = float64(r.IntN(20) - 5)
		}
		switch r.IntN(5) {
		case 0:
			props["flag"] = true
		case 1:
			props["flag"] = false
		case 2:
			props["flag"] = "true"
		case 3:
			props["flag"] = nil
		}
		switch r.IntN(6) {
		case 0:
		case 1:
			props["tags"] = "notanarray"
		default:
			tags := []any{}
			for range r.IntN(4) {
				tags = append(tags, randScalar(r))
			}
			props["tags"] = tags
		}
		switch r.IntN(4) {
		case 0:
			props["updated"] = "garbage"
		case 1:
		default:
			props["updated"] = randTime(r).Format(time.RFC3339)
		}
		props["gsd"] = float64(r.IntN(60)) / 2
		g := randGeometry(r)
		gj, _ := g.MarshalJSON()
		var gm map[string]any
		_ = json.Unmarshal(gj, &gm)
		doc := map[string]any{
			"type":         "Feature",
			"stac_version": "1.0.0",
			"id":           fmt.Sprintf("item-%03d", i),
			"collection":   []string{"c1", "c2", "C1"}[r.IntN(3)],
			"geometry":     gm,
			"properties":   props,
		}
		raw, _ := json.Marshal(doc)
		var decoded map[string]any
		_ = json.Unmarshal(raw, &decoded)
		items[i] = item{doc: decoded, raw: string(raw)}
	}
	return items
}

func micros(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMicro()
}

func openDB(t testing.TB, items []item) *sql.DB {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "items.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		props := it.doc["properties"].(map[string]any)
		var dt any
		var start, end int64
		if s, ok := props["datetime"].(string); ok {
			dt = micros(s)
			start, end = micros(s), micros(s)
		} else {
			start, end = micros(props["start_datetime"].(string)), micros(props["end_datetime"].(string))
		}
		gj, _ := json.Marshal(it.doc["geometry"])
		g, err := geom.UnmarshalGeoJSON(gj)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi, _ := g.Envelope().MinMaxXYs()
		if _, err := tx.Exec(`INSERT INTO items (collection, id, datetime, start_datetime, end_datetime, minx, miny, maxx, maxy, geometry, doc)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, it.doc["collection"], it.doc["id"], dt, start, end, lo.X, lo.Y, hi.X, hi.Y, g.AsBinary(), it.raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return db
}

// filterGen generates random filters over the generated items' properties.
type filterGen struct{ r *rand.Rand }

func (g filterGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g filterGen) str() string {
	w := words[g.r.IntN(len(words))]
	return "'" + strings.ReplaceAll(w, "'", "''") + "'"
}

func (g filterGen) ts() string {
	return "TIMESTAMP('" + randTime(g.r).Format(time.RFC3339Nano) + "')"
}

func (g filterGen) instant() string {
	if g.r.IntN(4) == 0 {
		return "DATE('" + randTime(g.r).Format(time.DateOnly) + "')"
	}
	return g.ts()
}

func (g filterGen) intervalLit() string {
	a := randTime(g.r)
	b := a.Add(time.Duration(g.r.IntN(5000)) * time.Hour)
	s, e := "'"+a.Format(time.RFC3339Nano)+"'", "'"+b.Format(time.RFC3339Nano)+"'"
	switch g.r.IntN(5) {
	case 0:
		s = "'..'"
	case 1:
		e = "'..'"
	}
	return "INTERVAL(" + s + ", " + e + ")"
}

func (g filterGen) geomLit() string {
	x, y := g.r.IntN(40)-20, g.r.IntN(40)-20
	w, h := 1+g.r.IntN(10), 1+g.r.IntN(10)
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf("BBOX(%d, %d, %d, %d)", x, y, x+w, y+h)
	case 1:
		return fmt.Sprintf("POINT(%d.5 %d.5)", x, y)
	case 2:
		return fmt.Sprintf("LINESTRING(%d %d, %d %d)", x, y, x+w, y+h)
	}
	return fmt.Sprintf("POLYGON((%d %d, %d %d, %d %d, %d %d, %d %d))", x, y, x+w, y, x+w, y+h, x, y+h, x, y)
}

func (g filterGen) arrayLit() string {
	n := g.r.IntN(4)
	var parts []string
	for range n {
		switch v := randScalar(g.r).(type) {
		case string:
			parts = append(parts, "'"+strings.ReplaceAll(v, "'", "''")+"'")
		case bool:
			parts = append(parts, fmt.Sprint(v))
		case float64:
			parts = append(parts, fmt.Sprint(v))
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func (g filterGen) num() string { return fmt.Sprint(float64(g.r.IntN(120)-10) / 2) }

func (g filterGen) compOp() string { return g.pick("=", "<>", "<", "<=", ">", ">=") }

func (g filterGen) leaf() string {
	switch g.r.IntN(24) {
	case 0:
		return fmt.Sprintf(`"eo:cloud_cover" %s %s`, g.compOp(), g.num())
	case 1:
		return fmt.Sprintf(`%s %s %s`, g.pick("platform", "collection", "id", `"properties.platform"`), g.compOp(), g.str())
	case 2:
		return fmt.Sprintf(`%s %s %s`, g.pick("count", "gsd", `"eo:cloud_cover"`, "platform", "flag"), g.compOp(), g.pick("count", "gsd", `"eo:cloud_cover"`, "platform", "flag"))
	case 3:
		return fmt.Sprintf(`CASEI(platform) %s %s`, g.pick("=", "<>", "LIKE"), g.pick("CASEI("+g.str()+")", g.str(), "CASEI('sent%')", "'%a_'"))
	case 4:
		return fmt.Sprintf(`ACCENTI(%s) = ACCENTI(%s)`, g.pick("platform", "CASEI(platform)"), g.pick(g.str(), "CASEI("+g.str()+")"))
	case 5:
		return fmt.Sprintf(`platform %sLIKE %s`, g.pick("", "NOT "), g.pick("'%a%'", "'S%'", "'_a%'", `'100\%\_%'`, "'a*b?[c]'", "'%'", "''", "'%2_'", g.str()))
	case 6:
		return fmt.Sprintf(`%s %sBETWEEN %s AND %s`, g.pick("count", "gsd", `"eo:cloud_cover"`), g.pick("", "NOT "), g.num(), g.num())
	case 7:
		return fmt.Sprintf(`%s %sIN (%s, %s, %s)`, g.pick("platform", "count", "collection", "flag"), g.pick("", "NOT "), g.str(), g.num(), g.pick("TRUE", g.str(), g.num()))
	case 8:
		return fmt.Sprintf(`%s IS %sNULL`, g.pick("platform", `"eo:cloud_cover"`, "flag", "tags", "nothing", "id", "geometry", "datetime"), g.pick("", "NOT "))
	case 9:
		return g.pick("flag", "NOT flag", "flag = TRUE", "flag <> FALSE")
	case 10:
		return fmt.Sprintf(`datetime %s %s`, g.compOp(), g.instant())
	case 11:
		return fmt.Sprintf(`%s(datetime, %s)`, g.pick("T_AFTER", "T_BEFORE", "T_CONTAINS", "T_DISJOINT", "T_DURING", "T_EQUALS", "T_FINISHEDBY", "T_FINISHES", "T_INTERSECTS", "T_MEETS", "T_METBY", "T_OVERLAPPEDBY", "T_OVERLAPS", "T_STARTEDBY", "T_STARTS"), g.pick(g.instant(), g.intervalLit(), g.intervalLit()))
	case 12:
		return fmt.Sprintf(`%s(%s, datetime)`, g.pick("T_AFTER", "T_BEFORE", "T_CONTAINS", "T_DURING", "T_INTERSECTS", "T_OVERLAPS", "T_STARTS"), g.intervalLit())
	case 13:
		return fmt.Sprintf(`%s(updated, %s)`, g.pick("T_AFTER", "T_BEFORE", "T_INTERSECTS", "T_DISJOINT"), g.pick(g.instant(), g.intervalLit()))
	case 14:
		return fmt.Sprintf(`updated %s %s`, g.compOp(), g.instant())
	case 15, 16:
		return fmt.Sprintf(`%s(geometry, %s)`, g.pick("S_INTERSECTS", "S_EQUALS", "S_DISJOINT", "S_TOUCHES", "S_WITHIN", "S_OVERLAPS", "S_CROSSES", "S_CONTAINS"), g.geomLit())
	case 17:
		return fmt.Sprintf(`%s(%s, geometry)`, g.pick("S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT"), g.geomLit())
	case 18:
		return fmt.Sprintf(`%s(tags, %s)`, g.pick("A_EQUALS", "A_CONTAINS", "A_CONTAINEDBY", "A_OVERLAPS"), g.arrayLit())
	case 19:
		return fmt.Sprintf(`%s(%s, tags)`, g.pick("A_EQUALS", "A_CONTAINS", "A_CONTAINEDBY", "A_OVERLAPS"), g.arrayLit())
	case 20:
		return fmt.Sprintf(`%s %s %s %s %s`, g.pick("count", "gsd", `"eo:cloud_cover"`), g.pick("+", "-", "*", "/", "%", "div"), g.pick("2", "count", "0", "gsd"), g.compOp(), g.num())
	case 21:
		return fmt.Sprintf(`-count %s %s`, g.compOp(), g.num())
	case 22:
		return fmt.Sprintf(`T_INTERSECTS(INTERVAL(start_datetime, end_datetime), %s)`, g.intervalLit())
	}
	return g.pick("TRUE", "FALSE", "1 = 1", "'a' < 'b'", "S_INTERSECTS(POINT(0 0), BBOX(-1,-1,1,1))")
}

func (g filterGen) expr(depth int) string {
	if depth <= 0 || g.r.IntN(3) == 0 {
		return g.leaf()
	}
	switch g.r.IntN(3) {
	case 0:
		return "(" + g.expr(depth-1) + " AND " + g.expr(depth-1) + ")"
	case 1:
		return "(" + g.expr(depth-1) + " OR " + g.expr(depth-1) + ")"
	}
	return "NOT (" + g.expr(depth-1) + ")"
}

func TestDifferentialSQLite(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	items := genItems(r, 500)
	db := openDB(t, items)
	byID := map[string]item{}
	for _, it := range items {
		byID[it.doc["id"].(string)] = it
	}
	g := filterGen{r: r}
	d := &cql2sql.SQLite{Alias: "i"}
	var exact, nonEmpty, total int
	for n := range 300 {
		src := g.expr(3)
		e, err := cql2.ParseText(src)
		if err != nil {
			t.Fatalf("filter %d %q: %v", n, src, err)
		}
		var want []string
		for _, it := range items {
			ok, err := cql2.Evaluate(e, it.doc)
			if err != nil {
				t.Fatalf("filter %d %q: Evaluate: %v", n, src, err)
			}
			if ok {
				want = append(want, it.doc["id"].(string))
			}
		}
		cl, err := cql2sql.Compile(e, d)
		if err != nil {
			t.Fatalf("filter %d %q: Compile: %v", n, src, err)
		}
		rows, err := db.Query("SELECT i.id FROM items i WHERE "+cl.SQL+" ORDER BY i.id", cl.Args...)
		if err != nil {
			t.Fatalf("filter %d %q: query: %v\nSQL: %s", n, src, err, cl.SQL)
		}
		var pre, got []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			pre = append(pre, id)
			if ok, _ := cql2.Evaluate(e, byID[id].doc); ok {
				got = append(got, id)
			}
		}
		rows.Close()
		total++
		if cl.Exact {
			exact++
			if !slices.Equal(pre, want) {
				t.Errorf("filter %d %q: exact SQL returned %d rows, Evaluate %d\nSQL: %s\nargs: %v\nextra/missing: %v",
					n, src, len(pre), len(want), cl.SQL, cl.Args, symdiff(pre, want))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("filter %d %q: prefilter∩Evaluate gives %d items, Evaluate %d\nSQL: %s\nargs: %v\nmissing: %v",
				n, src, len(got), len(want), cl.SQL, cl.Args, symdiff(got, want))
		}
		if len(want) > 0 {
			nonEmpty++
		}
	}
	t.Logf("%d filters: %d exact, %d with matches", total, exact, nonEmpty)
	if nonEmpty < total/3 {
		t.Errorf("only %d of %d filters match anything: generator too narrow", nonEmpty, total)
	}
}

func symdiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, "+"+x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, "-"+x)
		}
	}
	if len(out) > 10 {
		out = out[:10]
	}
	return out
}
