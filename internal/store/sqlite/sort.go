package sqlite

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tessera-geo/tessera/internal/search"
)

// sortKey is one ORDER BY term.
type sortKey struct {
	expr    string
	desc    bool
	notNull bool // the expression is never NULL (a NOT NULL column)
}

// sortKeys turns the requested order into SQL terms; the tiebreak (id,
// collection) follows in the direction of the last term.
func (db *DB) sortKeys(sb []search.SortField) []sortKey {
	if len(sb) == 0 {
		sb = search.DefaultSort
	}
	keys := make([]sortKey, 0, len(sb)+2)
	for _, f := range sb {
		k := sortKey{desc: f.Desc}
		switch f.Field {
		case "id":
			k.expr, k.notNull = "i.id", true
		case "collection":
			k.expr, k.notNull = "i.collection", true
		case "datetime", "start_datetime":
			k.expr, k.notNull = "i.start_datetime", true
		case "end_datetime":
			k.expr, k.notNull = "i.end_datetime", true
		default:
			if col, ok := db.indexed[f.Field]; ok {
				k.expr = "i." + col.Name
			} else {
				k.expr = `json_extract(i.doc, '$.properties."` + f.Field + `"')`
			}
		}
		keys = append(keys, k)
	}
	last := keys[len(keys)-1].desc
	for _, tb := range []string{"i.id", "i.collection"} {
		if !hasExpr(keys, tb) {
			keys = append(keys, sortKey{expr: tb, desc: last, notNull: true})
		}
	}
	return keys
}

func hasExpr(keys []sortKey, expr string) bool {
	for _, k := range keys {
		if k.expr == expr {
			return true
		}
	}
	return false
}

func orderBy(keys []sortKey) string {
	terms := make([]string, len(keys))
	for i, k := range keys {
		terms[i] = k.expr
		if k.desc {
			terms[i] += " DESC"
		}
	}
	return " ORDER BY " + strings.Join(terms, ", ")
}

// selectKeys lists the key expressions to read back for the cursor.
func selectKeys(keys []sortKey) string {
	terms := make([]string, len(keys))
	for i, k := range keys {
		terms[i] = k.expr
	}
	return strings.Join(terms, ", ")
}

// after is the WHERE condition for rows after the cursor values, with
// NULL sorting before every value (SQLite's order: first ascending, last
// descending).
func after(keys []sortKey, vals []any) (string, []any) {
	sameDir, noNulls := true, true
	for i, k := range keys {
		sameDir = sameDir && k.desc == keys[0].desc
		noNulls = noNulls && (k.notNull || vals[i] != nil)
	}
	if sameDir && noNulls && allNotNull(keys) {
		// One row-value comparison: an index range seek.
		cols := make([]string, len(keys))
		for i, k := range keys {
			cols[i] = k.expr
		}
		op := ">"
		if keys[0].desc {
			op = "<"
		}
		return "(" + strings.Join(cols, ", ") + ") " + op + " (" + placeholders(len(keys)) + ")", vals
	}
	var args []any
	var build func(i int) string
	build = func(i int) string {
		k, v := keys[i], vals[i]
		var strictly, equal string
		switch {
		case v == nil && k.desc:
			strictly = "0"
		case v == nil:
			strictly = k.expr + " IS NOT NULL"
		case k.desc && k.notNull:
			strictly, args = k.expr+" < ?", append(args, v)
		case k.desc:
			strictly, args = "("+k.expr+" < ? OR "+k.expr+" IS NULL)", append(args, v)
		default:
			strictly, args = k.expr+" > ?", append(args, v)
		}
		if i == len(keys)-1 {
			return strictly
		}
		if v == nil {
			equal = k.expr + " IS NULL"
		} else {
			equal, args = k.expr+" = ?", append(args, v)
		}
		return "(" + strictly + " OR (" + equal + " AND " + build(i+1) + "))"
	}
	cond := build(0)
	// A redundant bound on the first key lets an index seek.
	if k, v := keys[0], vals[0]; v != nil && !k.desc {
		cond = k.expr + " >= ? AND " + cond
		args = append([]any{v}, args...)
	} else if v != nil && k.notNull {
		cond = k.expr + " <= ? AND " + cond
		args = append([]any{v}, args...)
	}
	return "(" + cond + ")", args
}

func allNotNull(keys []sortKey) bool {
	for _, k := range keys {
		if !k.notNull {
			return false
		}
	}
	return true
}

// sortSignature identifies an order, so a token cannot continue a search
// sorted differently.
func sortSignature(keys []sortKey) string {
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s|%v;", k.expr, k.desc)
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// cursor is the sort key of the last item of a page.
type cursor struct {
	sig  string
	vals []any
}

func (c cursor) encode() string {
	b, _ := json.Marshal([]any{2, c.sig, c.vals})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, keys []sortKey) (cursor, error) {
	bad := &search.InvalidParamError{Param: "token", Reason: "not a token this server issued for this search (use the next link of a previous page)"}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	var v []json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil || len(v) != 3 || string(v[0]) != "2" {
		return cursor{}, bad
	}
	var c cursor
	if json.Unmarshal(v[1], &c.sig) != nil || c.sig != sortSignature(keys) {
		return cursor{}, bad
	}
	d := json.NewDecoder(strings.NewReader(string(v[2])))
	d.UseNumber()
	var raw []any
	if d.Decode(&raw) != nil || len(raw) != len(keys) {
		return cursor{}, bad
	}
	for i, x := range raw {
		switch t := x.(type) {
		case json.Number:
			if n, err := t.Int64(); err == nil {
				raw[i] = n
			} else if f, err := t.Float64(); err == nil {
				raw[i] = f
			} else {
				return cursor{}, bad
			}
		case string, nil:
		default:
			return cursor{}, bad
		}
		if raw[i] == nil && keys[i].notNull {
			return cursor{}, bad
		}
	}
	c.vals = raw
	return c, nil
}

// scanValue normalises a scanned key value for the cursor.
func scanValue(v any) any {
	switch t := v.(type) {
	case []byte:
		return string(t)
	default:
		return t
	}
}
