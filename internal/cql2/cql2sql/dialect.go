package cql2sql

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/tessera-geo/tessera/internal/cql2"
)

// Clause is a compiled filter: a boolean SQL expression (no leading WHERE)
// and its bound arguments, in placeholder order.
type Clause struct {
	SQL  string
	Args []any
	// Exact is true when the rows selected by SQL are exactly the items
	// cql2.Evaluate accepts. When false, SQL selects a superset (a
	// prefilter) and the caller must keep only the rows for which
	// cql2.Evaluate returns true.
	Exact bool
}

// Dialect is an SQL dialect with its property-to-column mapping. The
// implementations are *SQLite and *Postgres; the interface is sealed.
type Dialect interface {
	// Placeholder returns the text of the n-th (1-based) bound argument of
	// a clause, taking any configured offset into account.
	Placeholder(n int) string

	name() string
	// col qualifies a column name with the configured alias.
	col(name string) string
	// jsonValue returns SQL for property key's JSON value when it has kind
	// k, and SQL NULL otherwise.
	jsonValue(key string, top bool, k kind) (string, error)
	// jsonIsNull returns SQL that is true when the key is missing or null.
	jsonIsNull(key string, top bool) (string, error)
	// jsonType returns SQL testing the JSON type of key ("object", "array",
	// "string").
	jsonTypeIs(key string, top bool, typ string) (string, error)
	timeArg(micros int64) any
	textCollate() string
}

// ValueKind is the type of value a mapped column holds.
type ValueKind int

// Column value kinds.
const (
	Text ValueKind = iota + 1
	Number
	Boolean
)

// Column maps a property to a dedicated column that holds the property's
// value when it is of kind Kind, and NULL otherwise (e.g. a generated
// column). Name is a bare column name; the dialect's Alias is prepended.
type Column struct {
	Name string
	Kind ValueKind
}

// SQLite compiles for the tessera SQLite items table:
//
//	items(rowid, collection TEXT, id TEXT, datetime INTEGER (unix µs, NULL
//	when properties.datetime is null), start_datetime INTEGER,
//	end_datetime INTEGER (effective interval), minx, miny, maxx, maxy REAL
//	(item bbox; minx > maxx crosses the antimeridian), geometry BLOB (WKB),
//	doc TEXT (item JSON))
//
// id and collection map to their columns, datetime to the datetime column
// (comparisons with TIMESTAMP/DATE) or the start_datetime/end_datetime
// interval (temporal predicates), geometry to the bbox columns (a prefilter:
// spatial predicates on geometry are never exact), and every other property
// P to json_extract(doc, '$.properties."P"'). Timestamps bind as unix
// microsecond integers.
type SQLite struct {
	// Alias qualifies columns, e.g. "i" gives i.id. Default "items".
	Alias string
	// Doc is the JSON document column. Default "doc".
	Doc string
	// Columns maps further property names to dedicated columns.
	Columns map[string]Column
}

// Postgres compiles for a PostGIS items table with columns id,
// collection, datetime, start_datetime, end_datetime (timestamptz),
// geometry geometry(Geometry, 4326) and content jsonb (the item; properties
// under content->'properties'). Spatial predicates are exact PostGIS calls
// with WKB literals (ST_GeomFromWKB($n, 4326)); timestamps bind as
// time.Time.
type Postgres struct {
	// Alias qualifies columns. Default "items".
	Alias string
	// Content is the jsonb item column. Default "content".
	Content string
	// Columns maps further property names to dedicated columns.
	Columns map[string]Column
	// ArgOffset is the number of arguments bound before this clause: the
	// first placeholder is $(ArgOffset+1).
	ArgOffset int
	// PropertiesOnly says that Content holds only {"properties": {...}}:
	// the other members a filter can name (id, collection, geometry) are
	// read from their columns wherever their JSON value is needed (type
	// tests, IS NULL), geometry as ST_AsGeoJSON.
	PropertiesOnly bool
}

// Placeholder implements Dialect.
func (*SQLite) Placeholder(int) string { return "?" }

// Placeholder implements Dialect.
func (d *Postgres) Placeholder(n int) string { return "$" + strconv.Itoa(d.ArgOffset+n) }

func (*SQLite) name() string   { return "sqlite" }
func (*Postgres) name() string { return "postgres" }

func qualify(alias, def, name string) string {
	if alias == "" {
		alias = def
	}
	return alias + "." + name
}

func (d *SQLite) col(name string) string   { return qualify(d.Alias, "items", name) }
func (d *Postgres) col(name string) string { return qualify(d.Alias, "items", name) }

func (d *SQLite) doc() string {
	if d.Doc == "" {
		return d.col("doc")
	}
	return d.col(d.Doc)
}

func (d *Postgres) content() string {
	if d.Content == "" {
		return d.col("content")
	}
	return d.col(d.Content)
}

// InvalidPropertyError reports a property name that cannot be placed in a
// JSON path safely.
type InvalidPropertyError struct{ Name string }

func (e *InvalidPropertyError) Error() string {
	return fmt.Sprintf("cql2sql: property name %q cannot be queried (quotes, backslashes and control characters are not allowed)", e.Name)
}

// checkKey validates a property key that will be embedded in a SQL string
// literal: no quotes, backslashes or control characters, valid UTF-8.
func checkKey(key string) error {
	if key == "" || !utf8.ValidString(key) || len(key) > 256 {
		return &InvalidPropertyError{Name: key}
	}
	for _, r := range key {
		if r == '"' || r == '\'' || r == '\\' || unicode.IsControl(r) || r == utf8.RuneError {
			return &InvalidPropertyError{Name: key}
		}
	}
	return nil
}

// jsonPath is the SQLite JSON path of a property key.
func jsonPath(key string, top bool) string {
	if top {
		return `'$."` + key + `"'`
	}
	return `'$.properties."` + key + `"'`
}

func (d *SQLite) jsonValue(key string, top bool, k kind) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	doc, path := d.doc(), jsonPath(key, top)
	t := "json_type(" + doc + ", " + path + ")"
	x := "json_extract(" + doc + ", " + path + ")"
	switch k {
	case kNum:
		return "(CASE WHEN " + t + " IN ('integer','real') THEN CAST(" + x + " AS REAL) END)", nil
	case kText:
		return "(CASE WHEN " + t + " = 'text' THEN " + x + " END)", nil
	case kBool:
		return "(CASE " + t + " WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)", nil
	}
	return "NULL", nil
}

func (d *SQLite) jsonIsNull(key string, top bool) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return "(coalesce(json_type(" + d.doc() + ", " + jsonPath(key, top) + "), 'null') = 'null')", nil
}

func (d *SQLite) jsonTypeIs(key string, top bool, typ string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if typ == "string" {
		typ = "text"
	}
	return "(json_type(" + d.doc() + ", " + jsonPath(key, top) + ") = '" + typ + "')", nil
}

func (*SQLite) timeArg(micros int64) any { return micros }
func (*SQLite) textCollate() string      { return "" }

func (d *Postgres) jsonRef(key string, top bool) string {
	if top && d.PropertiesOnly {
		switch key {
		case "id", "collection":
			return "to_jsonb(" + d.col(key) + ")"
		case "geometry":
			return "(ST_AsGeoJSON(" + d.col(key) + ")::jsonb)"
		}
	}
	if top {
		return "(" + d.content() + "->'" + key + "')"
	}
	return "(" + d.content() + "->'properties'->'" + key + "')"
}

func (d *Postgres) jsonValue(key string, top bool, k kind) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	ref := d.jsonRef(key, top)
	t := "jsonb_typeof(" + ref + ")"
	switch k {
	case kNum:
		return "(CASE WHEN " + t + " = 'number' THEN (" + ref + ")::float8 END)", nil
	case kText:
		return "(CASE WHEN " + t + " = 'string' THEN (" + ref + " #>> '{}') END)", nil
	case kBool:
		return "(CASE WHEN " + t + " = 'boolean' THEN (" + ref + ")::boolean END)", nil
	}
	return "NULL", nil
}

func (d *Postgres) jsonIsNull(key string, top bool) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return "(coalesce(jsonb_typeof(" + d.jsonRef(key, top) + "), 'null') = 'null')", nil
}

func (d *Postgres) jsonTypeIs(key string, top bool, typ string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return "(jsonb_typeof(" + d.jsonRef(key, top) + ") = '" + typ + "')", nil
}

// IndexExpr is the expression this dialect's comparisons read for the
// values of kind "number" or "text" of property name: an expression
// index on it (CREATE INDEX ON items ((expr))) serves filters such as
// name < 10 or name = 'x'. Columns are qualified as Alias says.
func (d *Postgres) IndexExpr(name, kindName string) (string, error) {
	k := map[string]kind{"number": kNum, "text": kText}[kindName]
	if k == 0 {
		return "", fmt.Errorf("cql2sql: index kind %q: want number or text", kindName)
	}
	return d.jsonValue(name, false, k)
}

func (*Postgres) timeArg(micros int64) any { return microsToTime(micros) }
func (*Postgres) textCollate() string      { return ` COLLATE "C"` }

// UnsupportedError reports a construct that cannot be compiled; it wraps
// cql2.ErrUnsupported.
type UnsupportedError struct {
	Dialect string
	What    string
}

func (e *UnsupportedError) Error() string {
	return "cql2sql: " + e.Dialect + ": unsupported: " + e.What
}

// Unwrap makes errors.Is(err, cql2.ErrUnsupported) true.
func (e *UnsupportedError) Unwrap() error { return cql2.ErrUnsupported }

var (
	_ Dialect = (*SQLite)(nil)
	_ Dialect = (*Postgres)(nil)
)
